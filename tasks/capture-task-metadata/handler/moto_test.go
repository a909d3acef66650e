package handler

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/irflow/irflow/internal/mototest"
	"github.com/irflow/irflow/internal/stricttest"
	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/taskrt"
)

func TestMain(m *testing.M) { stricttest.Main(m) }

// versions lists the object versions under prefix as "key sha256" lines.
func versions(t *testing.T, w *mototest.World, prefix string) []string {
	t.Helper()
	c := taskrt.NewS3(w.Cfg)
	out, err := c.ListObjectVersions(context.Background(), &s3.ListObjectVersionsInput{Bucket: aws.String(w.Env.EvidenceBucket), Prefix: aws.String(prefix)})
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, v := range out.Versions {
		obj, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(w.Env.EvidenceBucket), Key: v.Key, VersionId: v.VersionId})
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(obj.Body)
		obj.Body.Close()
		sum := sha256.Sum256(body)
		lines = append(lines, strings.TrimPrefix(aws.ToString(v.Key), prefix)+" "+hex.EncodeToString(sum[:]))
	}
	sort.Strings(lines)
	return lines
}

func TestCaptureAgainstMoto(t *testing.T) {
	w := mototest.Seed(t)
	rt := &taskrt.Runtime{Action: "capture-task-metadata", Handle: New(w.Cfg, w.Env), Audit: taskrt.NewChain(w.Cfg, w.Env), Log: taskrt.NewLogger(io.Discard)}
	tests := []struct {
		lt    string
		files []string
	}{
		{"EC2", []string{"network-interfaces.json", "task-definition.json", "task.json"}},
		{"FARGATE", []string{"network-interfaces.json", "service.json", "task-definition.json", "task.json"}},
	}
	for _, tt := range tests {
		t.Run(tt.lt, func(t *testing.T) {
			caseID := mototest.Unique("case")
			prefix := "cases/" + caseID + "/metadata/"
			for run := 1; run <= 2; run++ {
				out, err := rt.Invoke(context.Background(), w.Payload("capture-task-metadata", "metadata", tt.lt, caseID, run == 2, nil, nil))
				if err != nil {
					t.Fatalf("run %d: %v", run, err)
				}
				var res contract.Result
				if err := json.Unmarshal(out, &res); err != nil {
					t.Fatal(err)
				}
				if res.Status != contract.StatusOK || len(res.Evidence) != len(tt.files) {
					t.Fatalf("run %d (dry run %v): %s", run, run == 2, out)
				}
				for _, ev := range res.Evidence {
					if !strings.HasPrefix(ev.URI, "s3://"+w.Env.EvidenceBucket+"/"+prefix) {
						t.Errorf("evidence %s outside the case folder", ev.URI)
					}
				}
			}
			got := versions(t, w, prefix)
			if len(got) != 2*len(tt.files) {
				t.Fatalf("objects %v; want two versions of %v", got, tt.files)
			}
			for i, name := range tt.files {
				a, b := got[2*i], got[2*i+1]
				// moto advances a task's lastStatus on every DescribeTasks
				// (RUNNING, DEACTIVATING, STOPPING, ...), so task.json differs.
				if !strings.HasPrefix(a, name+" ") || !strings.HasPrefix(b, name+" ") || (a != b && name != "task.json") {
					t.Errorf("%s: versions %q and %q; want two captures of the same content", name, a, b)
				}
			}
			obj, err := taskrt.NewS3(w.Cfg).GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(w.Env.EvidenceBucket), Key: aws.String(prefix + "task.json")})
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(obj.Body)
			if !strings.Contains(string(body), w.Target(tt.lt).TaskArn) || !strings.Contains(string(body), "\n  ") {
				t.Errorf("task.json is not the pretty-printed task: %.200s", body)
			}
			mototest.VerifyAudit(t, w, caseID, 4)
		})
	}
}
