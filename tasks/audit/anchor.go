package audit

import (
	"context"
	"fmt"
	"strconv"

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

// VerifyCase checks a case's records against everything that can vouch for
// them: the hash chain, each record's MAC (key), and the anchor finalize-case
// wrote (nil when the case has none yet). It returns the verdict, or an
// error when a check could not be made (KMS refused, throttled): not a
// verdict about the records.
func VerifyCase(ctx context.Context, caseID string, records []Record, anchor *Anchor, key *mac.Key) (ChainStatus, error) {
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
	if anchor == nil {
		return st, nil
	}
	ok, err := key.Verify(ctx, anchor.MAC, mac.PurposeAuditAnchor, anchorFields(caseID, *anchor)...)
	if err != nil {
		return st, fmt.Errorf("verifying the manifest's anchor: %w", err)
	}
	if !ok {
		st.Verified, st.Problem = false, "the manifest's audit anchor has no valid MAC (the manifest was rewritten)"
		return st, nil
	}
	st.Anchored, st.AnchoredRecords = true, anchor.Records
	n := int64(len(records))
	switch {
	case anchor.Records < 1:
		st.Verified, st.Problem = false, "the manifest anchors no record"
		return st, nil
	case n < anchor.Records:
		return fail(n+1, "missing: the manifest anchors %d records but only %d remain (the chain was truncated)", anchor.Records, n)
	case records[anchor.Records-1].Hash != anchor.HeadHash:
		return fail(anchor.Records, "it is not the record the manifest anchors (the chain was rewritten)")
	}
	for _, r := range records[:anchor.Records] {
		// A finding that joined the open case is recorded by its own
		// execution (resolve-target's finding-joined); every other record
		// is the case's execution's.
		if r.ExecutionID != anchor.ExecutionID && !(r.Event == EventFindingJoined && r.Action == "resolve-target") {
			return fail(r.Seq, "it belongs to execution %s, not to the case's execution %s", r.ExecutionID, anchor.ExecutionID)
		}
	}
	if anchor.FollowedBy == FollowedByFinalizeResult {
		if n == anchor.Records {
			return fail(n+1, "missing: finalize-case's result record, which follows the anchored head, is gone "+
				"(the chain was truncated, or finalize-case failed after writing the manifest)")
		}
		if next := records[anchor.Records]; next.Action != "finalize-case" || next.Event != "result" || next.ExecutionID != anchor.ExecutionID {
			return fail(next.Seq, "it should be finalize-case's result record of execution %s, which follows the anchored head", anchor.ExecutionID)
		}
	}
	st.AfterAnchor = int(n - anchor.Records)
	return st, nil
}
