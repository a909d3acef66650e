package demo

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/irflow/irflow/generator"
	"github.com/irflow/irflow/tasks/taskrt"
)

// Organization worlds (worlds.MemberNames): irflow and its stores in the
// administrator account, the ECS world in a member account.

// judgeMemberNetwork reads the member account's network back from moto
// with the member's credentials after the response and judges every flow
// of the world on it as a new connection: the containment in effect in the
// member account itself (what the network does, besides whether the
// process is gone). A verdict that differs from the replay of the
// response's recorded calls (judgeFlows) is a problem unless the task's ENI
// is gone with the stopped task (ECS deletes it; the replay sees only the
// responder's calls). An instance ENI reads back with the groups the
// responder set: the strict layer shows its own groups, as AWS does, not
// moto's union with the instance's launch groups (internal/strict,
// eni_groups.go).
func judgeMemberNetwork(ctx context.Context, c *Case) error {
	read, err := gatherNetwork(ctx, c.World.Cfg)
	if err != nil {
		return fmt.Errorf("the member account's network after the response: %w", err)
	}
	c.MemberNetwork = nil
	for _, f := range c.World.Flows {
		v, err := read.Evaluate(f.Flow)
		if err != nil {
			return fmt.Errorf("flow %s on the member account's network: %w", f.Name, err)
		}
		r := FlowResult{Name: f.Name, Description: f.Description, Established: f.Established, After: word(v.Allowed), Reason: v.Reason}
		if c.replayed != nil {
			rv, err := c.replayed.Evaluate(f.Flow)
			if err != nil {
				return err
			}
			switch {
			case rv.Allowed == v.Allowed:
			case !v.Allowed && c.TaskStatus == "STOPPED" && strings.Contains(v.Reason, "stopped/deleted"):
				r.Residual = "the task's ENI is gone with the stopped task"
			default:
				c.problem("flow %s: %s on the member account's network read back with its credentials (%s), %s in the replay of the response's calls (%s)",
					f.Name, word(v.Allowed), v.Reason, word(rv.Allowed), rv.Reason)
			}
		}
		c.MemberNetwork = append(c.MemberNetwork, r)
	}
	return nil
}

// printMemberNetwork shows the member account's network verdicts.
func printMemberNetwork(out io.Writer, c *Case) {
	if len(c.MemberNetwork) == 0 {
		return
	}
	fmt.Fprintf(out, "\n  the member account %s's network after the response, read back from moto with its credentials (each flow as a new connection):\n", c.World.Account)
	for _, f := range c.MemberNetwork {
		fmt.Fprintf(out, "    %-17s %-7s %s\n", f.Name, f.After, clip(f.Reason, 120))
		if f.Residual != "" {
			fmt.Fprintf(out, "    %-17s         differs from the replay: %s\n", "", clip(f.Residual, 160))
		}
	}
}

// judgeNoStack checks a case in a member account without irflow's member
// stack: the execution FAILED in resolve-target with an error naming the
// account and the responder role it could not assume, no other step ran,
// and nothing changed anywhere: no EC2 change in any account, every flow
// as it was, the task RUNNING, no evidence in the bucket, no lock or claim
// left in the incidents table, and the strict layer's only refusals the
// AssumeRole of the missing role.
func judgeNoStack(ctx context.Context, env *awsEnv, stores taskrt.Env, c *Case) error {
	w := c.World
	role := taskrt.ResponderRoleARN("aws", w.Account, "resolve-target")
	if c.Run.Status != "FAILED" || c.Run.Error != generator.ErrResolveTargetFailed {
		c.problem("the execution ended %s (%s); want FAILED with %s", c.Run.Status, c.Run.Error, generator.ErrResolveTargetFailed)
	}
	if !strings.Contains(c.Run.Cause, "account "+w.Account) || !strings.Contains(c.Run.Cause, role) {
		c.problem("the failure does not name account %s and the role %s: %s", w.Account, role, c.Run.Cause)
	}
	for _, s := range c.Run.Steps {
		if s.Action != "resolve-target" && s.Action != "notify" {
			c.problem("step %s (%s) ran in an account irflow cannot act in", s.Step, s.Action)
		}
	}
	if c.EC2Calls != 0 {
		c.problem("%d EC2 change(s) were made", c.EC2Calls)
	}
	for _, f := range c.Flows {
		if f.Before != f.After {
			c.problem("flow %s went from %s to %s", f.Name, f.Before, f.After)
		}
	}
	if c.TaskStatus != "RUNNING" {
		c.problem("the task is %s; want it RUNNING, untouched", c.TaskStatus)
	}
	for _, r := range c.Refusals {
		if r.Rule != "sts-assume-missing-role" || !strings.Contains(r.Message, w.Account) {
			c.problem("strict layer refused %s:%s (%s): %s", r.Service, r.Operation, r.Rule, r.Message)
		}
	}
	if len(c.Refusals) == 0 {
		c.problem("the strict layer refused no AssumeRole: the role was assumed")
	}
	home := env.cfg
	if c.CaseID != "" {
		objs, err := taskrt.NewS3(home).ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(stores.EvidenceBucket),
			Prefix: aws.String("cases/" + c.CaseID + "/")})
		if err != nil {
			return fmt.Errorf("listing the case's evidence: %w", err)
		}
		if n := len(objs.Contents); n > 0 {
			c.problem("%d evidence object(s) under cases/%s/", n, c.CaseID)
		}
		if c.Records, err = taskrt.NewChain(home, stores).Read(ctx, c.CaseID); err != nil {
			return err
		}
	}
	left, err := incidentItemsOf(ctx, home, stores.IncidentsTable, w.Target.Arn)
	if err != nil {
		return err
	}
	if left > 0 {
		c.problem("%d item(s) of the task hold it in the incidents table (a lock or claim not given back)", left)
	}
	return nil
}

// incidentItemsOf counts the incidents table's items that name the task
// and still hold it: a lock resolve-target gave back stays, released
// (releasedAt, expired), as the record of the attempt.
func incidentItemsOf(ctx context.Context, cfg aws.Config, table, taskArn string) (int, error) {
	n := 0
	p := dynamodb.NewScanPaginator(dynamodb.NewFromConfig(cfg), &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return 0, fmt.Errorf("scanning the incidents table: %w", err)
		}
		for _, item := range page.Items {
			if _, released := item["releasedAt"]; released {
				continue
			}
			for _, v := range item {
				if s, ok := v.(*ddbtypes.AttributeValueMemberS); ok && strings.Contains(s.Value, taskArn) {
					n++
					break
				}
			}
		}
	}
	return n, nil
}

// printNoStack says how a case without the member stack ended.
func printNoStack(out io.Writer, stores taskrt.Env, c *Case) {
	fmt.Fprintf(out, "\n  no member stack in account %s: the execution %s (%s)\n", c.World.Account, c.Run.Status, c.Run.Error)
	fmt.Fprintf(out, "    cause: %s\n", clip(c.Run.Cause, 300))
	fmt.Fprintf(out, "    nothing changed: %d EC2 change(s), task %s, %d audit record(s), no evidence under s3://%s/cases/%s/\n",
		c.EC2Calls, c.TaskStatus, len(c.Records), stores.EvidenceBucket, c.CaseID)
	for _, p := range c.Problems {
		fmt.Fprintf(out, "  PROBLEM: %s\n", p)
	}
}
