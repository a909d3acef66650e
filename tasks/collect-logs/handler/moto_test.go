package handler

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
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

// objectLines returns the JSON lines of every version of key, newest first.
func objectLines(t *testing.T, w *mototest.World, key string) [][]line {
	t.Helper()
	c := taskrt.NewS3(w.Cfg)
	vs, err := c.ListObjectVersions(context.Background(), &s3.ListObjectVersionsInput{Bucket: aws.String(w.Env.EvidenceBucket), Prefix: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	var out [][]line
	for _, v := range vs.Versions {
		obj, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(w.Env.EvidenceBucket), Key: v.Key, VersionId: v.VersionId})
		if err != nil {
			t.Fatal(err)
		}
		gz, err := gzip.NewReader(obj.Body)
		if err != nil {
			t.Fatalf("%s is not gzip: %v", key, err)
		}
		text, _ := io.ReadAll(gz)
		obj.Body.Close()
		var lines []line
		dec := json.NewDecoder(bytes.NewReader(text))
		for dec.More() {
			var l line
			if err := dec.Decode(&l); err != nil {
				t.Fatal(err)
			}
			lines = append(lines, l)
		}
		out = append(out, lines)
	}
	return out
}

func TestCollectAgainstMoto(t *testing.T) {
	w := mototest.Seed(t)
	rt := &taskrt.Runtime{Action: "collect-logs", Handle: New(w.Cfg, w.Env), Audit: taskrt.NewChain(w.Cfg, w.Env), Log: taskrt.NewLogger(io.Discard)}
	for _, lt := range []string{"EC2", "FARGATE"} {
		t.Run(lt, func(t *testing.T) {
			caseID := mototest.Unique("case")
			container := w.Target(lt).Containers[0].Name
			key := "cases/" + caseID + "/logs/logs-" + container + ".jsonl.gz"
			for run := 1; run <= 2; run++ {
				out, err := rt.Invoke(context.Background(), w.Payload("collect-logs", "logs", lt, caseID, run == 2, nil, nil))
				if err != nil {
					t.Fatalf("run %d: %v", run, err)
				}
				var res contract.Result
				json.Unmarshal(out, &res)
				if res.Status != contract.StatusOK || len(res.Evidence) != 1 || !strings.HasSuffix(res.Evidence[0].URI, key) {
					t.Fatalf("run %d: %s", run, out)
				}
			}
			versions := objectLines(t, w, key)
			if len(versions) != 2 {
				t.Fatalf("%d versions of %s; want one per run at the same key", len(versions), key)
			}
			for _, lines := range versions {
				if len(lines) != 4 || !strings.Contains(lines[1].Message, "minexmr") || lines[0].Timestamp > lines[3].Timestamp {
					t.Errorf("lines = %+v; want the 4 seeded events in order", lines)
				}
			}

			filtered := mototest.Unique("case")
			if _, err := rt.Invoke(context.Background(), w.Payload("collect-logs", "logs", lt, filtered, false, map[string]any{"filterPattern": "xmrig"}, nil)); err != nil {
				t.Fatal(err)
			}
			got := objectLines(t, w, "cases/"+filtered+"/logs/logs-"+container+".jsonl.gz")
			if len(got) != 1 || len(got[0]) != 1 || !strings.Contains(got[0][0].Message, "xmrig") {
				t.Errorf("filtered lines = %+v; want the one xmrig event", got)
			}
			mototest.VerifyAudit(t, w, caseID, 4)
		})
	}
}
