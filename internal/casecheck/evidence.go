// Package casecheck verifies a case after the fact, from the evidence
// bucket and the audit chain alone: every object's SHA-256 is recomputed
// from its bytes and compared with what irflow recorded about it. make demo
// and make stress both prove their runs with it.
package casecheck

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/irflow/irflow/tasks/audit"
	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/finalize-case/report"
)

// S3API is what the check reads of the evidence bucket.
type S3API interface {
	s3.ListObjectsV2APIClient
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// Object is one evidence object of a case as the bucket holds it, checked
// against what irflow recorded about it.
type Object struct {
	Key string
	// Bytes and SHA256 are recomputed from the object's content (GetObject).
	Bytes  int64
	SHA256 string
	// Checked names what the recomputed hash matched: the object's
	// irflow-sha256 metadata, the case manifest, the audit chain (the
	// evidence entry of the step's result record).
	Checked  []string
	Problems []string
}

// Evidence is what Check found for one case.
type Evidence struct {
	Objects []Object
	// Manifest is the manifest finalize-case wrote (nil when there is none).
	Manifest *report.Manifest
	// Problems are every mismatch, each naming the object's URI.
	Problems []string
}

func (e *Evidence) problem(format string, args ...any) {
	e.Problems = append(e.Problems, fmt.Sprintf(format, args...))
}

// Check lists the case's objects in the evidence bucket, recomputes each
// SHA-256 from its bytes and compares it with the object's metadata, the
// manifest finalize-case wrote (whose audit head hash must be a record of
// recs) and the evidence entries of the audit chain's result records
// (recs). An object nobody recorded, or a recorded object that is not in the
// bucket, is a problem too. The error is for a bucket that cannot be read.
func Check(ctx context.Context, s3c S3API, bucket, caseID string, recs []audit.Record) (*Evidence, error) {
	ev := &Evidence{}
	uri := func(key string) string { return "s3://" + bucket + "/" + key }

	audited := map[string]contract.Evidence{}
	hashes := map[string]bool{}
	manifestURI := ""
	for _, r := range recs {
		hashes[r.Hash] = true
		if r.Event != "result" {
			continue
		}
		var d struct {
			Evidence []contract.Evidence `json:"evidence"`
			Outputs  struct {
				Manifest string `json:"manifest"`
			} `json:"outputs"`
		}
		if json.Unmarshal([]byte(r.Detail), &d) != nil {
			continue
		}
		for _, e := range d.Evidence {
			audited[e.URI] = e
		}
		if r.Action == "finalize-case" && d.Outputs.Manifest != "" {
			manifestURI = d.Outputs.Manifest
		}
	}
	manifest := map[string]report.Artifact{}
	if manifestURI == "" {
		ev.problem("no finalize-case result with a manifest in the audit chain")
	} else if body, _, err := Get(ctx, s3c, bucket, strings.TrimPrefix(manifestURI, uri(""))); err != nil {
		ev.problem("manifest %s: %v", manifestURI, err)
	} else if err := json.Unmarshal(body, &ev.Manifest); err != nil {
		ev.problem("manifest %s is not JSON: %v", manifestURI, err)
	} else {
		m := ev.Manifest
		if m.CaseID != caseID || m.Version != report.ManifestVersion {
			ev.problem("manifest %s names case %q (version %q)", manifestURI, m.CaseID, m.Version)
		}
		if !hashes[m.AuditHeadHash] {
			ev.problem("manifest %s: its audit head hash %.12s… is no record of the chain", manifestURI, m.AuditHeadHash)
		}
		for _, a := range m.Objects {
			manifest[a.URI] = a
		}
	}

	prefix := "cases/" + caseID + "/"
	var keys []string
	p := s3.NewListObjectsV2Paginator(s3c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("listing %s: %w", uri(prefix), err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	sort.Strings(keys)
	listed := map[string]bool{}
	for _, key := range keys {
		listed[uri(key)] = true
		body, meta, err := Get(ctx, s3c, bucket, key)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(body)
		o := Object{Key: key, Bytes: int64(len(body)), SHA256: hex.EncodeToString(sum[:])}
		check := func(what, sha string, size int64) {
			switch {
			case sha != o.SHA256:
				o.Problems = append(o.Problems, fmt.Sprintf("SHA-256 %s, but the %s says %s", o.SHA256, what, sha))
			case size >= 0 && size != o.Bytes:
				o.Problems = append(o.Problems, fmt.Sprintf("%d bytes, but the %s says %d", o.Bytes, what, size))
			default:
				o.Checked = append(o.Checked, what)
			}
		}
		if m, ok := meta["irflow-sha256"]; ok {
			check("metadata", m, -1)
		} else {
			o.Problems = append(o.Problems, "no irflow-sha256 metadata")
		}
		if a, ok := manifest[uri(key)]; ok {
			check("manifest", a.SHA256, a.Bytes)
		}
		if e, ok := audited[uri(key)]; ok {
			check("audit", e.SHA256, e.Bytes)
		}
		if len(o.Checked) < 2 && len(o.Problems) == 0 {
			o.Problems = append(o.Problems, "neither the manifest nor the audit chain records it")
		}
		for _, p := range o.Problems {
			ev.problem("%s: %s", uri(key), p)
		}
		ev.Objects = append(ev.Objects, o)
	}
	var missing []string
	for u := range manifest {
		if !listed[u] {
			missing = append(missing, u)
		}
	}
	for u := range audited {
		if !listed[u] && manifest[u].URI == "" {
			missing = append(missing, u)
		}
	}
	sort.Strings(missing)
	for _, u := range missing {
		ev.problem("%s is recorded but not in the bucket", u)
	}
	if len(ev.Objects) == 0 {
		ev.problem("no evidence objects under %s", uri(prefix))
	}
	return ev, nil
}

// Get reads one object: its bytes and its user metadata.
func Get(ctx context.Context, s3c S3API, bucket, key string) ([]byte, map[string]string, error) {
	out, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return nil, nil, fmt.Errorf("s3://%s/%s: %w", bucket, key, err)
	}
	defer out.Body.Close()
	body, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, nil, fmt.Errorf("s3://%s/%s: %w", bucket, key, err)
	}
	return body, out.Metadata, nil
}
