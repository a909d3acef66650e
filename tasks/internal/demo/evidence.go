package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/irflow/irflow/tasks/approval-api/approval"
	"github.com/irflow/irflow/tasks/approval-api/handler"
	"github.com/irflow/irflow/tasks/finalize-case/report"
	"github.com/irflow/irflow/tasks/internal/taskrt"
)

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

// checkEvidence lists the case's objects in the evidence bucket, recomputes
// each SHA-256 from its bytes and compares it with the object's metadata,
// the manifest finalize-case wrote and the evidence entries of the audit
// chain's result records. An object nobody recorded, or a recorded object
// that is not in the bucket, is a problem too.
func checkEvidence(ctx context.Context, cfg aws.Config, env taskrt.Env, c *Case) error {
	s3c := taskrt.NewS3(cfg)
	uri := func(key string) string { return "s3://" + env.EvidenceBucket + "/" + key }

	audited := map[string]taskrt.Evidence{}
	manifestURI := ""
	for _, r := range c.Records {
		if r.Event != "result" {
			continue
		}
		var d struct {
			Evidence []taskrt.Evidence `json:"evidence"`
			Outputs  struct {
				Manifest string `json:"manifest"`
			} `json:"outputs"`
		}
		if json.Unmarshal([]byte(r.Detail), &d) != nil {
			continue
		}
		for _, ev := range d.Evidence {
			audited[ev.URI] = ev
		}
		if r.Action == "finalize-case" && d.Outputs.Manifest != "" {
			manifestURI = d.Outputs.Manifest
		}
	}
	manifest := map[string]report.Artifact{}
	if manifestURI == "" {
		c.problem("no finalize-case result with a manifest in the audit chain")
	} else {
		body, _, err := getObject(ctx, s3c, env.EvidenceBucket, strings.TrimPrefix(manifestURI, uri("")))
		if err != nil {
			return err
		}
		var m report.Manifest
		if err := json.Unmarshal(body, &m); err != nil {
			return fmt.Errorf("%s: %w", manifestURI, err)
		}
		for _, a := range m.Objects {
			manifest[a.URI] = a
		}
	}

	prefix := "cases/" + c.CaseID + "/"
	var keys []string
	p := s3.NewListObjectsV2Paginator(s3c, &s3.ListObjectsV2Input{Bucket: aws.String(env.EvidenceBucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("listing %s: %w", uri(prefix), err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	sort.Strings(keys)
	listed := map[string]bool{}
	c.Evidence = nil
	for _, key := range keys {
		listed[uri(key)] = true
		body, meta, err := getObject(ctx, s3c, env.EvidenceBucket, key)
		if err != nil {
			return err
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
		if ev, ok := audited[uri(key)]; ok {
			check("audit", ev.SHA256, ev.Bytes)
		}
		if len(o.Checked) < 2 && len(o.Problems) == 0 {
			o.Problems = append(o.Problems, "neither the manifest nor the audit chain records it")
		}
		for _, p := range o.Problems {
			c.problem("%s: %s", uri(key), p)
		}
		c.Evidence = append(c.Evidence, o)
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
		c.problem("%s is recorded but not in the bucket", u)
	}
	if len(c.Evidence) == 0 {
		c.problem("no evidence objects under %s", uri(prefix))
	}
	return nil
}

func getObject(ctx context.Context, s3c *s3.Client, bucket, key string) ([]byte, map[string]string, error) {
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

// readApprovals reads the case's gates back from the approvals table and
// checks that an accepted decision is recorded as its decider made it, in
// the table and in the audit chain.
func readApprovals(ctx context.Context, cfg aws.Config, env taskrt.Env, c *Case) error {
	db := dynamodb.NewFromConfig(cfg)
	seen := map[string]bool{}
	c.Approvals = nil
	for _, at := range c.Attempts {
		if seen[at.ApprovalID] {
			continue
		}
		seen[at.ApprovalID] = true
		out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(env.ApprovalsTable), Key: approval.Key(at.ApprovalID), ConsistentRead: aws.Bool(true)})
		if err != nil {
			return fmt.Errorf("reading approval %s: %w", at.ApprovalID, err)
		}
		if len(out.Item) == 0 {
			c.problem("approval %s is not in the approvals table", at.ApprovalID)
			continue
		}
		a, err := approval.FromItem(out.Item)
		if err != nil {
			return err
		}
		c.Approvals = append(c.Approvals, a)
	}
	decided := 0
	for _, at := range c.Attempts {
		if at.Status != http.StatusOK {
			continue
		}
		decided++
		var a *approval.Approval
		for _, x := range c.Approvals {
			if x.ID == at.ApprovalID {
				a = x
			}
		}
		if a == nil || a.DecidedBy != at.Who || a.Decision != at.Decision || a.DeliveredAt == "" {
			c.problem("approval %s: the table does not hold %s's delivered %s decision", at.ApprovalID, at.Who, at.Decision)
			continue
		}
		audited := false
		for _, r := range c.Records {
			if r.Seq == a.AuditSeq && r.Event == "approval-decided" && r.Action == handler.Action && strings.Contains(r.Summary, at.Who) {
				audited = true
			}
		}
		if !audited {
			c.problem("approval %s: audit record %d does not hold %s's decision", a.ID, a.AuditSeq, at.Who)
		}
	}
	if decided == 0 {
		c.problem("no gate was decided through the approval API")
	}
	return nil
}
