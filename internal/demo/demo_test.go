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
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/irflow/irflow/generator"
	"github.com/irflow/irflow/internal/mototest"
	"github.com/irflow/irflow/internal/stricttest"
	"github.com/irflow/irflow/tasks/approval-api/approval"
	"github.com/irflow/irflow/tasks/audit"
	"github.com/irflow/irflow/tasks/registry"
	"github.com/irflow/irflow/tasks/taskrt"
)

func TestMain(m *testing.M) { stricttest.Main(m) }

// TestDemo runs the whole default demo against moto, as `make demo` does,
// and checks what it claims: every case ends SUCCEEDED/COMPLETED on its
// launch type, the gates are decided by the approver's identity through
// the approval API (and the refusals are refused), every evidence object's
// SHA-256 recomputed from the bucket matches what irflow recorded, every
// case's audit chain verifies, and every case's flows were judged.
func TestDemo(t *testing.T) {
	ep := mototest.DirectEndpoint(t) // the bench puts its own strict layer in front
	ctx := context.Background()
	var out bytes.Buffer
	dir := t.TempDir()
	res, err := Run(ctx, Options{Endpoint: ep, Out: dir, Summary: filepath.Join(dir, "summary.json"), Stdout: &out})
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
		// The path to containment is measured from the strict layer's
		// request log (no speed goal here: BENCHMARKS.md has the counts);
		// the four-eyes case is a dry run, which isolates nothing.
		if p := c.Path; i == 2 && (p == nil || p.Step != "" || p.RoundTrips != 0) {
			t.Errorf("%s: a dry run contained the task: %+v", c.Title, p)
		} else if p := c.Path; i < 2 && (p == nil || p.Step == "" || p.RoundTrips < 3 || p.RoundTrips > p.Requests || len(p.Steps) < 2 ||
			p.Steps[0].Step != "resolve-target" || p.Steps[len(p.Steps)-1].Step != p.Step) {
			t.Errorf("%s: path to containment %+v; want resolve-target first, the isolation last, a round trip per request at most", c.Title, p)
		}
		if len(c.Flows) < 4 {
			t.Errorf("%s: %d flows judged; want the world's flows", c.Title, len(c.Flows))
		}
		established := false
		for _, f := range c.Flows {
			established = established || f.Established && f.Before == Allowed
		}
		if !established {
			t.Errorf("%s: no established flow allowed before the response: %+v", c.Title, c.Flows)
		}
		approved := false
		for _, a := range c.Approvals {
			p, err := approval.ParsePrincipal(a.DecidedBy)
			if a.Status == approval.StatusApproved && err == nil && p.Kind == approval.KindAssumedRole && p.Name == incidentCommander &&
				slices.Contains(a.Approvers, roleARN(c.World.Account, incidentCommander)) {
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
	var sum Summary
	if b, err := os.ReadFile(filepath.Join(dir, "summary.json")); err != nil || json.Unmarshal(b, &sum) != nil || len(sum.Cases) != 3 || sum.Moto != nil {
		t.Errorf("summary.json: %v, %d cases, moto %v", err, len(sum.Cases), sum.Moto)
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
	if got := codes(res.Cases[2]); !slices.Equal(got, []string{"403 self-approval", "202", "200"}) {
		t.Errorf("four-eyes gate answers %v; want alice refused on her own request, then bob's vote, then carol's (a console requester is unconfirmed: two approvers)", got)
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
	if a.Status == http.StatusOK || a.Status == http.StatusAccepted {
		return strconv.Itoa(a.Status)
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
