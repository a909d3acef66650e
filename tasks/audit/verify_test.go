package audit

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/irflow/irflow/tasks/mac"
	"github.com/irflow/irflow/tasks/mac/mactest"
)

const (
	testCase = "case-7"
	testExec = "arn:aws:states:us-east-1:123456789012:execution:irflow-x:case-7"
)

// chainOf builds n records as Chain.Append would, MACs included.
func chainOf(t *testing.T, key *mac.Key, n int) []Record {
	t.Helper()
	var out []Record
	prev := GenesisHash
	for i := 1; i <= n; i++ {
		r := Record{CaseID: testCase, Seq: int64(i), At: fmt.Sprintf("2026-01-01T00:00:%02dZ", i), ExecutionID: testExec,
			Step: "s", Action: "a", Event: "result", Status: "OK", Summary: fmt.Sprintf("step %d", i), Detail: "{}", PrevHash: prev}
		r.Hash = r.ComputeHash()
		r.MAC = sign(t, key, r)
		prev = r.Hash
		out = append(out, r)
	}
	return out
}

func sign(t *testing.T, key *mac.Key, r Record) string {
	t.Helper()
	m, err := key.Sign(context.Background(), mac.PurposeAuditRecord, RecordMACFields(r)...)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// rehash recomputes the chain from i on as someone with write access to the
// table but not to the MAC key would: hashes right, MACs left as they were.
func rehash(records []Record, from int) {
	for i := from; i < len(records); i++ {
		if i > 0 {
			records[i].PrevHash = records[i-1].Hash
		}
		records[i].Hash = records[i].ComputeHash()
	}
}

func TestVerifyCase(t *testing.T) {
	ctx := context.Background()
	key, _ := mactest.Key("arn:aws:kms:us-east-1:123456789012:key/hmac")
	attacker, _ := mactest.Key("arn:aws:kms:us-east-1:123456789012:key/attacker")
	tests := []struct {
		name string
		// edit changes the 8 records anchored at 6 (or the anchor).
		edit     func(t *testing.T, records []Record, a *Anchor) []Record
		ok       bool
		firstBad int64
		problem  string
		// anchorAt is how many records the manifest anchors (default 6).
		anchorAt int
	}{
		{name: "intact, two records after the anchor", ok: true},
		{name: "last two records dropped", ok: false, firstBad: 7, problem: "truncated", anchorAt: 8,
			edit: func(_ *testing.T, r []Record, _ *Anchor) []Record { return r[:6] }},
		{name: "anchored records dropped from the end", ok: false, firstBad: 5, problem: "truncated",
			edit: func(_ *testing.T, r []Record, _ *Anchor) []Record { return r[:4] }},
		{name: "record edited and the rest re-hashed", ok: false, firstBad: 3, problem: "MAC does not match",
			edit: func(_ *testing.T, r []Record, _ *Anchor) []Record {
				r[2].Summary = "nothing happened"
				rehash(r, 2)
				return r
			}},
		{name: "edited and re-MACed with another key", ok: false, firstBad: 3, problem: "MAC does not match",
			edit: func(t *testing.T, r []Record, _ *Anchor) []Record {
				r[2].Summary = "nothing happened"
				rehash(r, 2)
				for i := 2; i < len(r); i++ {
					r[i].MAC = sign(t, attacker, r[i])
				}
				return r
			}},
		{name: "record deleted in the middle", ok: false, firstBad: 4, problem: "missing",
			edit: func(_ *testing.T, r []Record, _ *Anchor) []Record { return append(r[:3], r[4:]...) }},
		{name: "two records swapped", ok: false, firstBad: 4,
			edit: func(_ *testing.T, r []Record, _ *Anchor) []Record { r[3], r[4] = r[4], r[3]; return r }},
		{name: "a record without a MAC", ok: false, firstBad: 2, problem: "no MAC",
			edit: func(_ *testing.T, r []Record, _ *Anchor) []Record { r[1].MAC = ""; return r }},
		{name: "anchor moved back in a new manifest", ok: false, problem: "no valid MAC",
			edit: func(_ *testing.T, r []Record, a *Anchor) []Record { a.Records, a.HeadHash = 4, r[3].Hash; return r[:4] }},
		{name: "chain rebuilt whole with another key", ok: false, firstBad: 1, problem: "MAC does not match",
			edit: func(t *testing.T, _ []Record, _ *Anchor) []Record { return chainOf(t, attacker, 8) }},
		{name: "record of another execution", ok: false, firstBad: 2, problem: "MAC does not match",
			edit: func(_ *testing.T, r []Record, _ *Anchor) []Record { r[1].ExecutionID += "-2"; rehash(r, 1); return r }},
		{name: "a finding that joined, written by its own execution", ok: true,
			edit: func(t *testing.T, r []Record, a *Anchor) []Record {
				return joinedAt(t, key, r, a, 2, EventFindingJoined, "resolve-target")
			}},
		{name: "another record of another execution, well signed", ok: false, firstBad: 3, problem: "not to the case's execution",
			edit: func(t *testing.T, r []Record, a *Anchor) []Record {
				return joinedAt(t, key, r, a, 2, "result", "stop-task")
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			records := chainOf(t, key, 8)
			at := tt.anchorAt
			if at == 0 {
				at = 6
			}
			anchor, err := AnchorAt(ctx, key, testCase, testExec, records[at-1], "")
			if err != nil {
				t.Fatal(err)
			}
			if tt.edit != nil {
				records = tt.edit(t, records, &anchor)
			}
			st, err := VerifyCase(ctx, testCase, records, Anchors{Case: &anchor}, key)
			if err != nil {
				t.Fatal(err)
			}
			if st.Verified != tt.ok || st.FirstBad != tt.firstBad || !strings.Contains(st.Problem, tt.problem) {
				t.Errorf("got %+v; want verified %v, first bad %d, problem %q", st, tt.ok, tt.firstBad, tt.problem)
			}
			if tt.ok && (!st.Anchored || st.AnchoredRecords != 6 || st.AfterAnchor != 2 || !st.MACsVerified) {
				t.Errorf("got %+v; want anchored at 6 with 2 after and MACs verified", st)
			}
		})
	}
}

// joinedAt makes record i another execution's (event, action), re-hashed
// and signed from there on, and returns the chain; the anchor is moved to
// the new hash of record 6.
func joinedAt(t *testing.T, key *mac.Key, r []Record, a *Anchor, i int, event, action string) []Record {
	t.Helper()
	r[i].ExecutionID, r[i].Event, r[i].Action = testExec+"-joining", event, action
	rehash(r, i)
	for j := i; j < len(r); j++ {
		r[j].MAC = sign(t, key, r[j])
	}
	na, err := AnchorAt(context.Background(), key, testCase, testExec, r[5], "")
	if err != nil {
		t.Fatal(err)
	}
	*a = na
	return r
}

// TestVerifyCaseWithoutAnchor: an open case verifies its chain and MACs
// but says nothing anchors it.
func TestVerifyCaseWithoutAnchor(t *testing.T) {
	key, _ := mactest.Key("k")
	st, err := VerifyCase(context.Background(), testCase, chainOf(t, key, 3), Anchors{}, key)
	if err != nil || !st.Verified || st.Anchored || !st.MACsVerified || !strings.Contains(st.Sentence(), "Not anchored") {
		t.Errorf("got %+v, %v (%s)", st, err, st.Sentence())
	}
}

// TestVerifyCaseKMSDown: a check that could not be made is an error, not a verdict.
func TestVerifyCaseKMSDown(t *testing.T) {
	key, fake := mactest.Key("k")
	records := chainOf(t, key, 2)
	fake.Err = fmt.Errorf("AccessDeniedException")
	if _, err := VerifyCase(context.Background(), testCase, records, Anchors{}, key); err == nil {
		t.Error("no error when KMS refused")
	}
}

// TestVerifyCaseFinalizeResult: the record after finalize-case's anchor is
// its result; dropping it (the last record of a finalized case) is found.
func TestVerifyCaseFinalizeResult(t *testing.T) {
	ctx := context.Background()
	key, _ := mactest.Key("k")
	records := chainOf(t, key, 5)
	records[4].Action, records[4].Event = "finalize-case", "result"
	records[4].Hash = records[4].ComputeHash()
	records[4].MAC = sign(t, key, records[4])
	anchor, err := AnchorAt(ctx, key, testCase, testExec, records[3], FollowedByFinalizeResult)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := VerifyCase(ctx, testCase, records, Anchors{Case: &anchor}, key); !st.Verified {
		t.Errorf("intact: %+v", st)
	}
	if st, _ := VerifyCase(ctx, testCase, records[:4], Anchors{Case: &anchor}, key); st.Verified || st.FirstBad != 5 {
		t.Errorf("finalize result dropped: %+v", st)
	}
	other := chainOf(t, key, 5)
	if st, _ := VerifyCase(ctx, testCase, other, Anchors{Case: &anchor}, key); st.Verified {
		t.Errorf("another chain: %+v", st)
	}
}

// releaseExec is an execution of the deployment's release state machine.
func releaseExec(n int) string {
	return fmt.Sprintf("arn:aws:states:us-east-1:123456789012:execution:irflow-release:case-7-release-%d", n)
}

// releasedChain is a finalized case released once and being released
// again: records 1-5 the playbook's (4 the finalized head, 5 finalize-case's
// result), 6-10 the first release's (9 its finalized head, 10 its
// finalize-case result), 11-12 a second release still running. It returns
// the records, chained and MACed, and the two manifests' anchors.
func releasedChain(t *testing.T, key *mac.Key) ([]Record, Anchor, Anchor) {
	t.Helper()
	records := chainOf(t, key, 12)
	for i := range records {
		switch {
		case i >= 10:
			records[i].ExecutionID = releaseExec(2)
		case i >= 5:
			records[i].ExecutionID = releaseExec(1)
		}
	}
	for _, i := range []int{4, 9} {
		records[i].Action, records[i].Event = "finalize-case", "result"
	}
	rehash(records, 0)
	for i := range records {
		records[i].MAC = sign(t, key, records[i])
	}
	ctx := context.Background()
	caseA, err := AnchorAt(ctx, key, testCase, testExec, records[3], FollowedByFinalizeResult)
	if err != nil {
		t.Fatal(err)
	}
	relA, err := AnchorAt(ctx, key, testCase, releaseExec(1), records[8], FollowedByFinalizeResult)
	if err != nil {
		t.Fatal(err)
	}
	return records, caseA, relA
}

// TestVerifyCaseWithRelease: the release's manifest anchors the records a
// release appended after the case's manifest, so dropping them, or
// slipping another execution's record among them, is found as it is for
// the playbook's.
func TestVerifyCaseWithRelease(t *testing.T) {
	ctx := context.Background()
	key, _ := mactest.Key("k")
	attacker, _ := mactest.Key("attacker")
	tests := []struct {
		name     string
		edit     func(t *testing.T, r []Record, a *Anchors) []Record
		ok       bool
		firstBad int64
		problem  string
	}{
		{name: "intact, a second release running", ok: true},
		{name: "the release's finalize-case result dropped", firstBad: 10, problem: "finalize-case's result",
			edit: func(_ *testing.T, r []Record, _ *Anchors) []Record { return r[:9] }},
		{name: "the release's records dropped", firstBad: 8, problem: "truncated",
			edit: func(_ *testing.T, r []Record, _ *Anchors) []Record { return r[:7] }},
		{name: "a playbook record among the release's, well signed", firstBad: 7, problem: "not to a release of the case",
			edit: func(t *testing.T, r []Record, a *Anchors) []Record {
				r[6].ExecutionID = testExec
				rehash(r, 6)
				for i := 6; i < len(r); i++ {
					r[i].MAC = sign(t, key, r[i])
				}
				na, _ := AnchorAt(context.Background(), key, testCase, releaseExec(1), r[8], FollowedByFinalizeResult)
				a.Release = &na
				return r
			}},
		{name: "the release's anchor signed with another key", problem: "release's manifest has no valid MAC",
			edit: func(t *testing.T, r []Record, a *Anchors) []Record {
				na, _ := AnchorAt(context.Background(), attacker, testCase, releaseExec(1), r[8], FollowedByFinalizeResult)
				a.Release = &na
				return r
			}},
		{name: "the case's manifest given as the release's", firstBad: 4, problem: "no more than the case's manifest",
			edit: func(_ *testing.T, r []Record, a *Anchors) []Record { a.Release = a.Case; return r }},
		{name: "no case manifest (its execution failed)", ok: true,
			edit: func(_ *testing.T, r []Record, a *Anchors) []Record { a.Case = nil; return r }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			records, caseA, relA := releasedChain(t, key)
			anchors := Anchors{Case: &caseA, Release: &relA}
			if tt.edit != nil {
				records = tt.edit(t, records, &anchors)
			}
			st, err := VerifyCase(ctx, testCase, records, anchors, key)
			if err != nil {
				t.Fatal(err)
			}
			if st.Verified != tt.ok || st.FirstBad != tt.firstBad || !strings.Contains(st.Problem, tt.problem) {
				t.Fatalf("got %+v; want verified %v, first bad %d, problem %q", st, tt.ok, tt.firstBad, tt.problem)
			}
			if !tt.ok {
				return
			}
			wantCase := int64(4)
			if anchors.Case == nil {
				wantCase = 0
			}
			if !st.Anchored || st.AnchoredRecords != wantCase || st.ReleaseAnchoredRecords != 9 || st.AfterAnchor != 3 {
				t.Errorf("got %+v; want the case's manifest anchoring %d, the release's 9, 3 after", st, wantCase)
			}
			if s := st.Sentence(); !strings.Contains(s, "the release's manifest the first 9") && !strings.Contains(s, "The release's manifest anchors the first 9") {
				t.Errorf("sentence %q does not state the release's anchor", s)
			}
		})
	}
}
