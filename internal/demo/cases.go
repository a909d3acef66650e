package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/irflow/irflow/generator/simulate"
	"github.com/irflow/irflow/internal/mototest"
	"github.com/irflow/irflow/tasks/approval-api/approval"
	"github.com/irflow/irflow/tasks/approval-api/handler"
	"github.com/irflow/irflow/tasks/taskrt"
)

// The example findings the GuardDuty events are made from.
const (
	FargateFinding = "examples/inputs/guardduty-fargate-cryptominer.json"
	EC2Finding     = "examples/inputs/guardduty-ec2-reverse-shell.json"
)

// People of the demo. Sessions are named after the user's e-mail, as IAM
// Identity Center names them; the approvers are the IncidentCommander role
// (IRFLOW_DEFAULT_APPROVERS), which admits its sessions.
func roleARN(account, role string) string {
	return fmt.Sprintf("arn:aws:iam::%s:role/%s", account, role)
}

func session(account, role, user string) string {
	return fmt.Sprintf("arn:aws:sts::%s:assumed-role/%s/%s", account, role, user)
}

const (
	alice   = "alice@example.com"
	bob     = "bob@example.com"
	mallory = "mallory@example.com"
)

// buildCases returns the demo's cases: the crypto-mining finding on the
// seeded Fargate task, then on the seeded EC2 task (both GuardDuty events,
// so the requester is aws.guardduty), then a response alice starts herself
// on the service's replacement task, where four eyes refuse her own approval.
// Each is built when its turn comes: the replacement task starts after the
// first case stopped the mining one.
func buildCases(root string, w *mototest.World) []func(context.Context) (*Case, error) {
	acct := w.Account
	fargate := func(context.Context) (*Case, error) {
		fg, err := guardDutyEvent(filepath.Join(root, FargateFinding), w, "FARGATE")
		if err != nil {
			return nil, err
		}
		return &Case{
			Title: "Fargate: GuardDuty " + FindingType, LaunchType: "FARGATE", TaskArn: w.FargateTaskArn, Input: fg,
			Deciders: []Decider{
				{Who: session(acct, "Developer", mallory), Decision: approval.DecisionApprove, Reason: "looks fine to me",
					WantStatus: http.StatusForbidden},
				{Who: session(acct, "IncidentCommander", alice), Decision: approval.DecisionApprove,
					Reason: "xmrig in payments-api, egress already cut: stop the task", WantStatus: http.StatusOK},
			},
		}, nil
	}
	onEC2 := func(context.Context) (*Case, error) {
		ec2, err := guardDutyEvent(filepath.Join(root, EC2Finding), w, "EC2")
		if err != nil {
			return nil, err
		}
		return &Case{
			Title: "EC2: GuardDuty " + FindingType, LaunchType: "EC2", TaskArn: w.EC2TaskArn, Input: ec2,
			Deciders: []Decider{
				{Who: session(acct, "IncidentCommander", bob), Decision: approval.DecisionApprove,
					Reason: "miner confirmed on report-worker; memory and disks requested first: contain", WantStatus: http.StatusOK},
			},
		}, nil
	}
	fourEyes := func(ctx context.Context) (*Case, error) { return fourEyesCase(ctx, w) }
	return []func(context.Context) (*Case, error){fargate, onEC2, fourEyes}
}

// fourEyesCase is a response alice starts herself (a console input, as
// `irflow start` sends, in dry run) on a replacement task of the Fargate
// service: she may not approve her own request, bob may.
func fourEyesCase(ctx context.Context, w *mototest.World) (*Case, error) {
	arn, err := runReplacement(ctx, w)
	if err != nil {
		return nil, err
	}
	input, _ := json.Marshal(map[string]any{
		"taskArn": arn, "caseId": "case-four-eyes", "dryRun": true, "requestedBy": alice,
		"reason": "the service replaced the mining task from the same image: rehearse the response on the replacement",
	})
	acct := w.Account
	return &Case{
		Title: "four eyes: alice's own dry run on the replacement Fargate task", LaunchType: "FARGATE", TaskArn: arn, Input: input,
		Brief: true,
		Deciders: []Decider{
			{Who: session(acct, "IncidentCommander", alice), Decision: approval.DecisionApprove,
				Reason: "my own request, approving it myself", WantStatus: http.StatusForbidden},
			{Who: session(acct, "IncidentCommander", bob), Decision: approval.DecisionApprove,
				Reason: "dry run only: go ahead", WantStatus: http.StatusOK},
		},
	}, nil
}

// runReplacement starts another task of the seeded Fargate service, as ECS
// does when a service's task stops.
func runReplacement(ctx context.Context, w *mototest.World) (string, error) {
	out, err := ecs.NewFromConfig(w.Cfg).RunTask(ctx, &ecs.RunTaskInput{
		Cluster: aws.String(w.ClusterName), TaskDefinition: aws.String(w.FargateTaskDef), LaunchType: ecstypes.LaunchTypeFargate,
		NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{
			Subnets: []string{w.SubnetID}, SecurityGroups: []string{w.AppSG}}},
		Group: aws.String("service:" + w.ServiceName), StartedBy: aws.String("ecs-svc/1234567890"),
	})
	if err != nil {
		return "", fmt.Errorf("starting the replacement task: %w", err)
	}
	if len(out.Tasks) != 1 {
		return "", fmt.Errorf("starting the replacement task: %d tasks, failures %v", len(out.Tasks), out.Failures)
	}
	return aws.ToString(out.Tasks[0].TaskArn), nil
}

// guardDutyEvent turns an example finding into one about the seeded world's
// task of a launch type, with crypto-mining's finding type: account, region,
// cluster, task, task definition, container and (EC2) instance are the
// world's; the finding id, times and severity stay the example's.
func guardDutyEvent(path string, w *mototest.World, launchType string) ([]byte, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var ev map[string]any
	if err := dec.Decode(&ev); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	obj := func(m map[string]any, key string) map[string]any {
		if v, ok := m[key].(map[string]any); ok {
			return v
		}
		v := map[string]any{}
		m[key] = v
		return v
	}
	exampleAccount, _ := ev["account"].(string)
	ev["account"], ev["region"] = w.Account, mototest.Region
	d := obj(ev, "detail")
	d["accountId"], d["region"], d["type"] = w.Account, mototest.Region, FindingType
	if arn, ok := d["arn"].(string); ok && exampleAccount != "" {
		d["arn"] = strings.ReplaceAll(arn, exampleAccount, w.Account)
	}
	res := obj(d, "resource")
	cl := obj(res, "ecsClusterDetails")
	cl["name"], cl["arn"] = w.ClusterName, w.ClusterArn
	td := obj(cl, "taskDetails")
	td["launchType"] = launchType
	proc := obj(obj(obj(d, "service"), "runtimeDetails"), "process")
	proc["name"], proc["executablePath"] = "xmrig", "/tmp/.cache/xmrig"
	id := func(arn string) string { return arn[strings.LastIndexByte(arn, '/')+1:] }
	var container, image string
	if launchType == "EC2" {
		td["arn"], td["definitionArn"] = w.EC2TaskArn, w.EC2Def
		delete(td, "group")
		delete(td, "startedBy")
		container, image = "worker", "111122223333.dkr.ecr.us-east-1.amazonaws.com/report-worker:2.0.1"
		obj(res, "instanceDetails")["instanceId"] = w.InstanceID
		d["title"] = "A crypto miner was executed in an ECS task."
		d["description"] = fmt.Sprintf("A process in task %s executed a known cryptocurrency miner.", id(w.EC2TaskArn))
	} else {
		td["arn"], td["definitionArn"] = w.FargateTaskArn, w.FargateTaskDef
		td["group"], td["startedBy"] = "service:"+w.ServiceName, "ecs-svc/1234567890"
		container, image = "api", "111122223333.dkr.ecr.us-east-1.amazonaws.com/payments-api:1.4.2"
		d["description"] = fmt.Sprintf("A process in task %s executed a known cryptocurrency miner.", id(w.FargateTaskArn))
	}
	if cs, ok := td["containers"].([]any); ok && len(cs) > 0 {
		if c, ok := cs[0].(map[string]any); ok {
			c["name"], c["image"] = container, image
			c["imagePrefix"] = image[:strings.LastIndexByte(image, ':')]
		}
	}
	return json.MarshalIndent(ev, "", "  ")
}

// approver decides the case's gates through the real approval API handler
// (tasks/approval-api Handler.Decide, what its Function URL runs), whose
// Responder answers the simulated gate's task token in place of Step
// Functions. The case's deciders try in order until one is accepted; a gate
// nobody decides is left to time out.
func approver(cfg aws.Config, env taskrt.Env, log io.Writer, c *Case) simulate.Approver {
	api := handler.New(cfg, env)
	api.Log = taskrt.NewLogger(log)
	return simulate.CallbackApprover(func(ctx context.Context, g simulate.Gate, cb simulate.Callbacks) error {
		id, err := approval.PayloadID(g.Payload)
		if err != nil {
			return err
		}
		h := *api
		h.Responder = cb
		for _, d := range c.Deciders {
			p, err := approval.ParsePrincipal(d.Who)
			if err != nil {
				return err
			}
			status, body := h.Decide(ctx, handler.Identity{ARN: d.Who, Account: p.Account}, id, d.Decision, d.Reason)
			c.Attempts = append(c.Attempts, Attempt{Step: g.Step, ApprovalID: id, Decider: d, Status: status, Body: body})
			if status != d.WantStatus {
				c.problem("gate %s: %s by %s answered %d; want %d: %s", g.Step, d.Decision, d.Who, status, d.WantStatus, body)
			}
			if status == http.StatusOK {
				return nil
			}
		}
		return nil
	})
}
