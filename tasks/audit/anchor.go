package audit

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/irflow/irflow/tasks/contract"
	"github.com/irflow/irflow/tasks/mac"
)

// Anchor fixes a case's chain where finalize-case closed it: how many
// records it had and the hash of the last, for the execution that owns
// the case. finalize-case writes it into the case's manifest in the Object
// Lock evidence bucket, out of reach of anyone who can only write to the
// audit table, so dropping the last records or re-hashing edited ones is
// found. MAC (the deployment's HMAC key) keeps a new manifest version from
// moving the anchor back.
type Anchor struct {
	ExecutionID string `json:"executionId"`
	Records     int64  `json:"records"`
	HeadHash    string `json:"headHash"`
	// FollowedBy names the record that must come right after the head:
	// "finalize-case result", the record the task runtime appends once
	// finalize-case returns, so dropping it is found too.
	FollowedBy string `json:"followedBy,omitempty"`
	MAC        string `json:"mac,omitempty"`
}

// FollowedByFinalizeResult is the FollowedBy of finalize-case's anchor.
const FollowedByFinalizeResult = "finalize-case result"

// anchorFields are what an anchor's MAC covers.
func anchorFields(caseID string, a Anchor) []string {
	return []string{caseID, a.ExecutionID, strconv.FormatInt(a.Records, 10), a.HeadHash, a.FollowedBy}
}

// AnchorAt returns the anchor of a case's chain whose last record is head,
// signed with key (unsigned without one: a deployment without a MAC key,
// which the verifier refuses).
func AnchorAt(ctx context.Context, key *mac.Key, caseID, executionID string, head Record, followedBy string) (Anchor, error) {
	if head.Seq < 1 || head.Hash == "" {
		return Anchor{}, fmt.Errorf("audit: case %s has no record to anchor", caseID)
	}
	a := Anchor{ExecutionID: executionID, Records: head.Seq, HeadHash: head.Hash, FollowedBy: followedBy}
	if key == nil {
		return a, nil
	}
	sig, err := key.Sign(ctx, mac.PurposeAuditAnchor, anchorFields(caseID, a)...)
	if err != nil {
		return Anchor{}, err
	}
	a.MAC = sig
	return a, nil
}

// Anchors are the anchors that vouch for a case's chain: the case's own
// (finalize-case's manifest, when the playbook's execution finalized it)
// and the release's (the manifest of the last `irflow release` of the case,
// its finalize-release step), each nil when there is none.
type Anchors struct {
	Case, Release *Anchor
}

// VerifyCase checks a case's records against everything that can vouch for
// them: the hash chain, each record's MAC (key), and the anchors of the
// case's manifests. It returns the verdict, or an error when a check could
// not be made (KMS refused, throttled): not a verdict about the records.
//
// The case's anchor fixes the playbook's records: all of them its
// execution's (but a finding that joined, recorded by its own). The
// release's fixes the records after it, up to the release's own head:
// those are the release executions' (one state machine per deployment,
// several releases of a case in a row), after the case's finalize-case
// result. Records after the last anchor are counted as appended.
func VerifyCase(ctx context.Context, caseID string, records []Record, anchors Anchors, key *mac.Key) (ChainStatus, error) {
	st := Check(records)
	if !st.Verified {
		return st, nil
	}
	fail := func(seq int64, format string, args ...any) (ChainStatus, error) {
		st.Verified, st.FirstBad, st.Problem = false, seq, fmt.Sprintf(format, args...)
		return st, nil
	}
	for _, r := range records {
		if r.CaseID != caseID {
			return fail(r.Seq, "it belongs to case %q", r.CaseID)
		}
		if r.MAC == "" {
			return fail(r.Seq, "it has no MAC: it was not written by an irflow function holding the MAC key")
		}
		ok, err := key.Verify(ctx, r.MAC, mac.PurposeAuditRecord, RecordMACFields(r)...)
		if err != nil {
			return st, fmt.Errorf("verifying the MAC of record %d: %w", r.Seq, err)
		}
		if !ok {
			return fail(r.Seq, "its MAC does not match (written or re-hashed without the MAC key)")
		}
	}
	st.MACsVerified = true
	// from is the first record the next anchor's range starts after.
	var from int64
	for _, a := range []struct {
		anchor *Anchor
		name   string
		owns   func(Record, *Anchor) bool
		whose  string
	}{
		{anchors.Case, "the manifest", ownedByCase, "the case's execution"},
		{anchors.Release, "the release's manifest", ownedByRelease, "a release of the case"},
	} {
		if a.anchor == nil {
			continue
		}
		anchor := *a.anchor
		ok, err := key.Verify(ctx, anchor.MAC, mac.PurposeAuditAnchor, anchorFields(caseID, anchor)...)
		if err != nil {
			return st, fmt.Errorf("verifying the anchor of %s: %w", a.name, err)
		}
		if !ok {
			st.Verified, st.Problem = false, fmt.Sprintf("the audit anchor of %s has no valid MAC (the manifest was rewritten)", a.name)
			return st, nil
		}
		n := int64(len(records))
		switch {
		case anchor.Records < 1:
			st.Verified, st.Problem = false, a.name+" anchors no record"
			return st, nil
		case anchor.Records <= from:
			return fail(anchor.Records, "%s anchors %d records, no more than the case's manifest (%d): it is not a later release's", a.name, anchor.Records, from)
		case n < anchor.Records:
			return fail(n+1, "missing: %s anchors %d records but only %d remain (the chain was truncated)", a.name, anchor.Records, n)
		case records[anchor.Records-1].Hash != anchor.HeadHash:
			return fail(anchor.Records, "it is not the record %s anchors (the chain was rewritten)", a.name)
		}
		rng := records[from:anchor.Records]
		if anchors.Case == nil {
			// No case manifest (its execution failed or was stopped
			// before finalize-case): the playbook's records before the
			// first release's are chained and MACed, not attributed.
			if i := slices.IndexFunc(rng, func(r Record) bool { return a.owns(r, &anchor) }); i > 0 {
				rng = rng[i:]
			}
		}
		for _, r := range rng {
			if !a.owns(r, &anchor) {
				return fail(r.Seq, "it belongs to execution %s, not to %s (%s)", r.ExecutionID, a.whose, anchor.ExecutionID)
			}
		}
		from = anchor.Records
		if anchor.FollowedBy == FollowedByFinalizeResult {
			if n == anchor.Records {
				return fail(n+1, "missing: finalize-case's result record, which follows the head %s anchors, is gone "+
					"(the chain was truncated, or finalize-case failed after writing the manifest)", a.name)
			}
			if next := records[anchor.Records]; next.Action != "finalize-case" || next.Event != "result" || next.ExecutionID != anchor.ExecutionID {
				return fail(next.Seq, "it should be finalize-case's result record of execution %s, which follows the head %s anchors", anchor.ExecutionID, a.name)
			}
			from++
		}
		st.Anchored = true
		if a.anchor == anchors.Case {
			st.AnchoredRecords = anchor.Records
		} else {
			st.ReleaseAnchoredRecords = anchor.Records
		}
		st.AfterAnchor = int(n - anchor.Records)
	}
	return st, nil
}

// ownedByCase: a record of the playbook's range is its execution's, or a
// finding that joined the open case, recorded by its own execution
// (resolve-target's finding-joined).
func ownedByCase(r Record, a *Anchor) bool {
	return r.ExecutionID == a.ExecutionID || r.Event == EventFindingJoined && r.Action == "resolve-target"
}

// ownedByRelease: a record of the release's range is an execution's of the
// state machine that wrote the anchor (the deployment's release machine:
// each `irflow release` of the case is one execution of it).
func ownedByRelease(r Record, a *Anchor) bool {
	sm := contract.StateMachineARNOf(r.ExecutionID)
	return sm != "" && sm == contract.StateMachineARNOf(a.ExecutionID)
}
