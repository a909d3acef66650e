package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/irflow/irflow/ops"
	"github.com/irflow/irflow/tasks/audit"
	"github.com/irflow/irflow/tasks/finalize-case/report"
	"github.com/irflow/irflow/tasks/mac"
	"github.com/irflow/irflow/tasks/termsafe"
)

func init() {
	register(command{name: "audit", summary: "print a case's audit timeline; --verify checks it against its MACs and its manifest", run: runAudit})
}

const auditHelp = `--verify checks the case's audit chain three ways: every record's hash is
recomputed and chained to the one before; every record's MAC is checked with
the deployment's HMAC key in KMS (kms:VerifyMac), so a record written or
re-hashed by anyone without that key fails; and the chain is compared with
the anchor finalize-case wrote into the case's manifest in the Object Lock
evidence bucket (record count and head hash), so records dropped from the
end, a rewrite or a deleted manifest fail too. A released case has a second
manifest, its last release's (finalize-release), whose anchor fixes the
records the releases appended after the case's. A case still open has no
manifest yet: its chain and MACs are checked, and the output says it is not
anchored.

Exit: 0 verified (or printed, without --verify), 4 verification failed
(truncation, rewrite, deletion, reorder, a MAC or the manifest's anchor does
not match), 1 access or other errors (no records, AWS refused a call),
2 usage.`

func runAudit(args []string, stdout, stderr io.Writer) int {
	var o ops.Options
	fs := newOpsFlags("audit", "CASE [--verify] [--format text|json] [--table NAME] [--bucket NAME] [--mac-key ARN] [AWS flags]", auditHelp, &o, stderr)
	verify := fs.Bool("verify", false, "check the hash chain, every record's MAC and the manifest's anchor; exit 4 when they do not hold")
	format := fs.String("format", "text", "output format: text or json")
	table := fs.String("table", "", "the audit table (default: the stack's "+ops.OutputAuditTable+" output)")
	bucket := fs.String("bucket", "", "the evidence bucket holding the case's manifest (default: the stack's "+ops.OutputEvidenceBucket+" output)")
	macKey := fs.String("mac-key", "", "the HMAC key of the deployment (default: the stack's "+ops.OutputMACKey+" output, else the key alias "+ops.MACKeyAlias(ops.DefaultStack)+" for the default --stack)")
	caseID, help, err := parseOne(fs, args, "case id", format, "text", "json")
	if help {
		return exitOK
	}
	if err != nil {
		return usageError(fs, stderr, err)
	}
	ctx, cancel := context.WithTimeout(rootCtx, opTimeout)
	defer cancel()
	cfg, stack, err := stackConfig(ctx, o, ops.Need{Value: table, Output: ops.OutputAuditTable, Flag: "--table"},
		ops.Need{Value: bucket, Output: ops.OutputEvidenceBucket, Flag: "--bucket", Skip: !*verify})
	if err != nil {
		fmt.Fprintf(stderr, "irflow audit: %v\n", err)
		return exitError
	}
	if *verify && *macKey == "" {
		// Without the stack's outputs (a local endpoint, a copy of the
		// stores), the key is found by the alias the CDK app gives it.
		if *macKey, err = stack.Get(ctx, ops.OutputMACKey, "--mac-key"); err != nil {
			*macKey = ops.MACKeyAlias(o.Stack)
			fmt.Fprintf(stderr, "irflow audit: using the MAC key %s (%v)\n", *macKey, err)
		}
	}
	records, err := (&audit.Chain{DB: dynamodb.NewFromConfig(cfg), Table: *table}).Read(ctx, caseID)
	if err != nil {
		fmt.Fprintf(stderr, "irflow audit: reading the audit chain of %s: %v\n", termsafe.Line(caseID), err)
		return exitError
	}
	var status *audit.ChainStatus
	if *verify {
		st, err := verifyCase(ctx, cfg, caseID, records, *bucket, *macKey)
		if err != nil {
			fmt.Fprintf(stderr, "irflow audit: %v\n", err)
			return exitError
		}
		status = &st
	}
	if len(records) == 0 && status == nil {
		fmt.Fprintf(stderr, "irflow audit: no audit records for case %s in table %s\n", termsafe.Line(caseID), *table)
		return exitError
	}
	if *format == "json" {
		writeAuditJSON(stdout, caseID, records, status)
	} else {
		where := ""
		if t := caseTarget(records); t != nil {
			// With Organizations the case acted in a member account.
			where = fmt.Sprintf(", target account %s region %s", termsafe.Line(t.Account), termsafe.Line(t.Region))
		}
		fmt.Fprintf(stdout, "case %s: %d audit record(s)%s\n", termsafe.Line(caseID), len(records), where)
		_ = report.WriteTimeline(stdout, report.Timeline(records))
		if status != nil {
			fmt.Fprintln(stdout, termsafe.Line(status.Sentence()))
		}
	}
	if status != nil && !status.Verified {
		fmt.Fprintf(stderr, "irflow audit: the audit chain of case %s does not verify: %s\n", termsafe.Line(caseID), termsafe.Line(problem(*status)))
		return exitVerify
	}
	return exitOK
}

// verifyCase reads the case's manifests (its own, and its last release's)
// and checks the records against them and the MAC key. The error says the
// check could not be made (access, throttling, nothing to check); a failed
// check is the status.
func verifyCase(ctx context.Context, cfg aws.Config, caseID string, records []audit.Record, bucket, keyID string) (audit.ChainStatus, error) {
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = cfg.BaseEndpoint != nil })
	var anchors audit.Anchors
	for _, m := range []struct {
		key    string
		anchor **audit.Anchor
	}{{ops.ManifestKey(caseID), &anchors.Case}, {ops.ReleaseManifestKey(caseID), &anchors.Release}} {
		man, err := ops.ReadManifest(ctx, s3c, bucket, m.key)
		var hidden *ops.ManifestHiddenError
		switch {
		case errors.As(err, &hidden):
			return audit.ChainStatus{Records: len(records), Problem: hidden.Error()}, nil
		case err != nil:
			return audit.ChainStatus{}, err
		case man == nil:
			continue
		case man.CaseID != caseID:
			return audit.ChainStatus{Records: len(records), Problem: fmt.Sprintf("the manifest at %s names case %q", m.key, man.CaseID)}, nil
		case man.Audit == nil:
			return audit.ChainStatus{Records: len(records), Problem: fmt.Sprintf("the manifest at %s carries no audit anchor", m.key)}, nil
		}
		*m.anchor = man.Audit
	}
	if len(records) == 0 && anchors.Case == nil && anchors.Release == nil {
		return audit.ChainStatus{}, fmt.Errorf("no audit records and no manifest for case %s", termsafe.Line(caseID))
	}
	st, err := audit.VerifyCase(ctx, caseID, records, anchors, &mac.Key{KMS: kms.NewFromConfig(cfg), ID: keyID})
	var nf *kmstypes.NotFoundException
	if errors.As(err, &nf) {
		return st, fmt.Errorf("%w: KMS has no MAC key %s (pass --mac-key or --stack)", err, termsafe.Line(keyID))
	}
	return st, err
}

// problem is the one-line reason a verification failed.
func problem(st audit.ChainStatus) string {
	if st.FirstBad > 0 {
		return fmt.Sprintf("record %d: %s", st.FirstBad, st.Problem)
	}
	return st.Problem
}

// writeAuditJSON prints {"caseId", "records": [...], "verification": {...}}
// with the records as stored, hashes and MACs included, so others can
// recompute them.
func writeAuditJSON(w io.Writer, caseID string, records []audit.Record, status *audit.ChainStatus) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if records == nil {
		records = []audit.Record{}
	}
	out := map[string]any{"caseId": caseID, "records": records}
	if t := caseTarget(records); t != nil {
		out["target"] = t
	}
	if status != nil {
		out["verification"] = status
	}
	_ = enc.Encode(out)
	_, _ = w.Write(termsafe.JSON(b.Bytes()))
}

// Target is where a case acted: the account and region of its task (a
// member account's, with Organizations).
type Target struct {
	Account string `json:"account"`
	Region  string `json:"region"`
}

// caseTarget reads the case's target from resolve-target's result record
// (its outputs' incident); nil when the chain has none.
func caseTarget(records []audit.Record) *Target {
	for _, r := range records {
		if r.Action != "resolve-target" || r.Event != "result" {
			continue
		}
		var d struct {
			Outputs struct {
				Incident *Target `json:"incident"`
			} `json:"outputs"`
		}
		if json.Unmarshal([]byte(r.Detail), &d) == nil && d.Outputs.Incident != nil && d.Outputs.Incident.Account != "" {
			return d.Outputs.Incident
		}
	}
	return nil
}
