package mototest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/irflow/irflow/tasks/audit"
	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/taskrt"
)

// Run invokes a handler through taskrt.Runtime exactly as its Lambda would:
// payload validation, the world's audit chain, named errors. Logs go nowhere.
func Run(t testing.TB, w *World, action string, h taskrt.HandlerFunc, payload []byte) (*contract.Result, error) {
	t.Helper()
	rt := &taskrt.Runtime{Action: action, Handle: h, Audit: taskrt.NewChain(w.Cfg, w.Env), Log: taskrt.NewLogger(io.Discard)}
	out, err := rt.Invoke(context.Background(), payload)
	if err != nil {
		return nil, err
	}
	var res contract.Result
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	return &res, nil
}

// VerifyAudit reads a case's audit chain, verifies it and checks it has
// want records (each Run appends a start and a result or error).
func VerifyAudit(t testing.TB, w *World, caseID string, want int) []audit.Record {
	t.Helper()
	recs, err := taskrt.NewChain(w.Cfg, w.Env).Read(context.Background(), caseID)
	if err != nil {
		t.Fatal(err)
	}
	if err := audit.Verify(recs); err != nil {
		t.Fatalf("audit chain of %s: %v", caseID, err)
	}
	if len(recs) != want {
		t.Fatalf("%d audit records for %s; want %d", len(recs), caseID, want)
	}
	return recs
}

// EvidenceObjects returns every object under cases/<caseID>/ in the world's
// evidence bucket, key -> bytes.
func EvidenceObjects(t testing.TB, w *World, caseID string) map[string][]byte {
	t.Helper()
	c := taskrt.NewS3(w.Cfg)
	out, err := c.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(w.Env.EvidenceBucket), Prefix: aws.String("cases/" + caseID + "/")})
	if err != nil {
		t.Fatal(err)
	}
	objs := map[string][]byte{}
	for _, o := range out.Contents {
		g, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(w.Env.EvidenceBucket), Key: o.Key})
		if err != nil {
			t.Fatal(err)
		}
		objs[aws.ToString(o.Key)], _ = io.ReadAll(g.Body)
		g.Body.Close()
	}
	return objs
}

// StoredEvidence returns what the world's evidence bucket holds for the
// case (EvidenceObjects) and fails t for each of the result's evidence
// objects that is not there with the SHA-256 and size the result reports.
func StoredEvidence(t testing.TB, w *World, caseID string, evidence []contract.Evidence) map[string][]byte {
	t.Helper()
	objs := EvidenceObjects(t, w, caseID)
	for _, ev := range evidence {
		body, ok := objs[w.EvidenceKey(ev)]
		sum := sha256.Sum256(body)
		if !ok || hex.EncodeToString(sum[:]) != ev.SHA256 || int64(len(body)) != ev.Bytes {
			t.Errorf("%s: moto holds %x/%d (stored: %v); evidence says %s/%d", ev.URI, sum, len(body), ok, ev.SHA256, ev.Bytes)
		}
	}
	return objs
}

// EvidenceKey is the key of an evidence object in the world's evidence
// bucket.
func (w *World) EvidenceKey(ev contract.Evidence) string {
	return strings.TrimPrefix(ev.URI, "s3://"+w.Env.EvidenceBucket+"/")
}

// SSMCommands counts the SSM commands sent to the world's instance for a
// case and step (the SSM actions comment them "irflow <caseId> <step>").
func SSMCommands(t testing.TB, w *World, caseID, step string) int {
	t.Helper()
	out, err := ssm.NewFromConfig(w.Cfg).ListCommands(context.Background(), &ssm.ListCommandsInput{InstanceId: aws.String(w.InstanceID)})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range out.Commands {
		if aws.ToString(c.Comment) == "irflow "+caseID+" "+step {
			n++
		}
	}
	return n
}

// AsyncInvoke is one call of an async (SSM) action: mode start or check,
// with the previous call's result for a check.
type AsyncInvoke func(t testing.TB, caseID, mode string, dry bool, prev *contract.Result) (*contract.Result, error)

// Async invokes h, the handler of an async action, through Run on the
// world's EC2 task as the generated poll loop does: step's mode, its
// timeoutSeconds, and the previous result.
func (w *World) Async(action, step string, timeoutSeconds int, h taskrt.HandlerFunc) AsyncInvoke {
	return func(t testing.TB, caseID, mode string, dry bool, prev *contract.Result) (*contract.Result, error) {
		t.Helper()
		extra := map[string]any{"mode": mode, "timeoutSeconds": timeoutSeconds}
		if prev != nil {
			extra["previous"] = prev
		}
		return Run(t, w, action, h, w.Payload(action, step, "EC2", caseID, dry, nil, extra))
	}
}
