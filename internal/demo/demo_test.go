package demo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/irflow/irflow/generator"
	"github.com/irflow/irflow/internal/mototest"
	"github.com/irflow/irflow/tasks/approval-api/approval"
	"github.com/irflow/irflow/tasks/audit"
	"github.com/irflow/irflow/tasks/incident"
	"github.com/irflow/irflow/tasks/registry"
	"github.com/irflow/irflow/tasks/taskrt"
)

func TestMain(m *testing.M) { mototest.Main(m) }

// TestDemo runs the whole demo against moto, as `make demo` does, and checks
// what it claims: both launch types end SUCCEEDED/COMPLETED, the gates are
// decided by the approver's identity through the approval API (and the
// refusals are refused), every evidence object's SHA-256 recomputed from the
// bucket matches what irflow recorded, and every case's audit chain verifies.
func TestDemo(t *testing.T) {
	ep := mototest.Endpoint(t)
	ctx := context.Background()
	var out bytes.Buffer
	res, err := Run(ctx, Options{Endpoint: ep, Out: t.TempDir(), Stdout: &out})
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	defer func() {
		if t.Failed() {
			t.Logf("demo output:\n%s", out.String())
		}
	}()
	if !res.OK() {
		for _, c := range res.Cases {
			for _, p := range c.Problems {
				t.Errorf("%s: %s", c.Title, p)
			}
		}
	}
	if len(res.Cases) != 3 {
		t.Fatalf("%d cases; want Fargate, EC2 and four eyes", len(res.Cases))
	}
	s3c := taskrt.NewS3(mototest.ConfigFor(ep))
	for i, want := range []string{"FARGATE", "EC2", "FARGATE"} {
		c := res.Cases[i]
		if c.Run.Status != "SUCCEEDED" || c.Run.Outcome != generator.OutcomeCompleted || c.Run.LaunchType != want {
			t.Errorf("%s: %s/%s on %s; want SUCCEEDED/COMPLETED on %s", c.Title, c.Run.Status, c.Run.Outcome, c.Run.LaunchType, want)
		}
		if err := audit.Verify(c.Records); err != nil || len(c.Records) < 10 {
			t.Errorf("%s: audit chain of %d records: %v", c.Title, len(c.Records), err)
		}
		approved := false
		for _, a := range c.Approvals {
			p, err := approval.ParsePrincipal(a.DecidedBy)
			if a.Status == approval.StatusApproved && err == nil && p.Kind == approval.KindAssumedRole && p.Name == "IncidentCommander" &&
				slices.Contains(a.Approvers, roleARN(res.World.Account, "IncidentCommander")) {
				approved = true
			}
		}
		if !approved {
			t.Errorf("%s: no gate approved by an IncidentCommander session: %+v", c.Title, c.Approvals)
		}
		if len(c.Evidence) < 4 {
			t.Errorf("%s: %d evidence objects; want the metadata, the logs and the report files", c.Title, len(c.Evidence))
		}
		for _, o := range c.Evidence {
			if len(o.Problems) > 0 || !(slices.Contains(o.Checked, "manifest") || slices.Contains(o.Checked, "audit")) {
				t.Errorf("%s: %s: checked %v, problems %v", c.Title, o.Key, o.Checked, o.Problems)
			}
			// Recompute here too, independently of the demo's checker.
			obj, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(res.Env.EvidenceBucket), Key: aws.String(o.Key)})
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(obj.Body)
			obj.Body.Close()
			sum := sha256.Sum256(body)
			if hex.EncodeToString(sum[:]) != o.SHA256 || int64(len(body)) != o.Bytes {
				t.Errorf("%s: %s is %x (%d bytes); the demo printed %s (%d)", c.Title, o.Key, sum, len(body), o.SHA256, o.Bytes)
			}
		}
	}
	codes := func(c *Case) []string {
		var out []string
		for _, at := range c.Attempts {
			out = append(out, answer(at))
		}
		return out
	}
	if got := codes(res.Cases[0]); !slices.Equal(got, []string{"403 not-an-approver", "200"}) {
		t.Errorf("Fargate gate answers %v; want the developer refused, then alice", got)
	}
	if got := codes(res.Cases[2]); !slices.Equal(got, []string{"403 self-approval", "200"}) {
		t.Errorf("four-eyes gate answers %v; want alice refused on her own request, then bob", got)
	}
	// What moto cannot do is reported as such; the EC2 case ran into it.
	var gaps []string
	for _, s := range res.Cases[1].Caught {
		gaps = append(gaps, s.Step+":"+s.Gap)
	}
	sort.Strings(gaps)
	for _, want := range []string{"memory:ssm", "host-artifacts:ssm"} {
		if !slices.Contains(gaps, want) {
			t.Errorf("EC2 caught steps %v; want %s", gaps, want)
		}
	}
	for _, want := range []string{"audit chain verified", "moto does not run SSM commands", "403 self-approval", "What moto does not emulate"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the output does not say %q", want)
		}
	}

	// The checker is not vacuous: an evidence object replaced in the bucket
	// (a new version under the same key) no longer matches what irflow
	// recorded, and the case says so.
	c := res.Cases[0]
	key := c.Evidence[len(c.Evidence)-1].Key
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(res.Env.EvidenceBucket), Key: aws.String(key),
		Body: strings.NewReader(`{"tampered":true}`), ChecksumAlgorithm: s3types.ChecksumAlgorithmSha256}); err != nil {
		t.Fatal(err)
	}
	c.Problems = nil
	if err := checkEvidence(ctx, mototest.ConfigFor(ep), res.Env, c); err != nil {
		t.Fatal(err)
	}
	if len(c.Problems) == 0 || !strings.Contains(strings.Join(c.Problems, "\n"), key) {
		t.Errorf("a replaced %s went unnoticed: %v", key, c.Problems)
	}
}

// answer is an attempt's answer as the test compares it: the status, and
// a refusal's code.
func answer(a Attempt) string {
	if a.Status == http.StatusOK {
		return "200"
	}
	var r approval.ErrorResponse
	_ = json.Unmarshal(a.Body, &r)
	return fmt.Sprintf("%d %s", a.Status, r.Code)
}

// TestSameHandlersAsRegistry: the demo builds its handlers as
// registry.Handlers does (only their log goes elsewhere), for every action.
func TestSameHandlersAsRegistry(t *testing.T) {
	cfg := aws.Config{Region: "us-east-1"}
	ours := realHandlers(cfg, taskrt.Env{}, io.Discard)
	theirs := registry.Handlers(context.Background(), cfg, taskrt.Env{})
	var a, b []string
	for k := range ours {
		a = append(a, k)
	}
	for k := range theirs {
		b = append(b, k)
	}
	sort.Strings(a)
	sort.Strings(b)
	if !slices.Equal(a, b) {
		t.Errorf("demo handlers %v; registry %v", a, b)
	}
}

// TestGuardDutyEvents: the events are about the world's tasks, with
// crypto-mining's finding type, and normalize like any GuardDuty finding.
func TestGuardDutyEvents(t *testing.T) {
	root, err := findRoot()
	if err != nil {
		t.Fatal(err)
	}
	w := &mototest.World{Account: "123456789012", ClusterName: "demo", ClusterArn: "arn:aws:ecs:us-east-1:123456789012:cluster/demo",
		FargateTaskArn: "arn:aws:ecs:us-east-1:123456789012:task/demo/0123456789abcdef0123456789abcdef",
		EC2TaskArn:     "arn:aws:ecs:us-east-1:123456789012:task/demo/fedcba9876543210fedcba9876543210",
		FargateTaskDef: "arn:aws:ecs:us-east-1:123456789012:task-definition/api:1", EC2Def: "arn:aws:ecs:us-east-1:123456789012:task-definition/worker:1",
		ServiceName: "api", InstanceID: "i-0123456789abcdef0"}
	for _, tt := range []struct{ file, launchType, task string }{
		{FargateFinding, "FARGATE", w.FargateTaskArn}, {EC2Finding, "EC2", w.EC2TaskArn},
	} {
		ev, err := guardDutyEvent(filepath.Join(root, tt.file), w, tt.launchType)
		if err != nil {
			t.Fatal(err)
		}
		inc, err := incident.Normalize(ev, incident.Execution{Name: "x"})
		if err != nil {
			t.Fatalf("%s: %v", tt.file, err)
		}
		id, _ := caseIDOf(ev)
		if inc.TaskArn != tt.task || inc.LaunchType != tt.launchType || inc.Finding.Type != FindingType || inc.Account != w.Account ||
			inc.ClusterArn != w.ClusterArn || inc.CaseID != id || inc.RequestedBy != "aws.guardduty" {
			t.Errorf("%s: %+v (case id %s)", tt.file, inc, id)
		}
	}
}

func TestMotoGap(t *testing.T) {
	for _, tt := range []struct{ action, err, want string }{
		{"capture-memory", "precondition failed: command x on i-1 reported Success but its command output: no IRFLOW-DONE", GapSSM},
		{"capture-memory", "precondition failed: no pinned AVML hash", ""},
		{"enable-flow-logs", "ec2:CreateFlowLogs refused eni-1 (400: LogDestination: b/cases/x/flow-logs/ does not exist.)", GapFlowLogs},
		{"tag-resources", "ecs:TagResource arn:aws:ecs:us-east-1:1:container-instance/c/x: https response error StatusCode: 500", GapTagCI},
		{"tag-resources", "ecs:TagResource arn:aws:ecs:us-east-1:1:task/c/x: https response error StatusCode: 500", ""},
		{"stop-task", "anything", ""},
	} {
		if got := motoGap(tt.action, tt.err); got != tt.want {
			t.Errorf("motoGap(%s, %q) = %q; want %q", tt.action, tt.err, got, tt.want)
		}
	}
}
