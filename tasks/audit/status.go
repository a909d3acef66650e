package audit

import (
	"errors"
	"fmt"
)

// ChainStatus is the verification of a case's chain as the report states it.
type ChainStatus struct {
	Verified bool   `json:"verified"`
	Records  int    `json:"records"`
	HeadHash string `json:"headHash,omitempty"`
	// FirstBad is the seq of the first record that does not verify.
	FirstBad int64  `json:"firstBad,omitempty"`
	Problem  string `json:"problem,omitempty"`
	// MACsVerified says every record's MAC was checked with the MAC key.
	MACsVerified bool `json:"macsVerified,omitempty"`
	// Anchored says the chain matched the anchors of the case's manifests:
	// the case's fixes AnchoredRecords records, the last release's
	// ReleaseAnchoredRecords; AfterAnchor were appended after the last.
	Anchored               bool  `json:"anchored,omitempty"`
	AnchoredRecords        int64 `json:"anchoredRecords,omitempty"`
	ReleaseAnchoredRecords int64 `json:"releaseAnchoredRecords,omitempty"`
	AfterAnchor            int   `json:"afterAnchor,omitempty"`
}

// Check verifies records and describes the result.
func Check(records []Record) ChainStatus {
	st := ChainStatus{Records: len(records)}
	if len(records) > 0 {
		st.HeadHash = records[len(records)-1].Hash
	}
	err := Verify(records)
	var ce *ChainError
	switch {
	case err == nil:
		st.Verified = len(records) > 0
		if len(records) == 0 {
			st.Problem = "no audit records"
		}
	case errors.As(err, &ce):
		st.FirstBad, st.Problem = ce.Seq, ce.Reason
	default:
		st.Problem = err.Error()
	}
	return st
}

// Sentence states the chain's verification in one line.
func (c ChainStatus) Sentence() string {
	switch {
	case c.Verified:
		s := fmt.Sprintf("Verified: %d records, each hash recomputed and chained; head hash %s.", c.Records, c.HeadHash)
		if c.MACsVerified {
			s += " Every record's MAC verified with the MAC key."
		}
		switch {
		case c.Anchored && c.AnchoredRecords > 0 && c.ReleaseAnchoredRecords > 0:
			s += fmt.Sprintf(" The manifest anchors the first %d, the release's manifest the first %d", c.AnchoredRecords, c.ReleaseAnchoredRecords)
			s += appended(c.AfterAnchor)
		case c.Anchored && c.ReleaseAnchoredRecords > 0:
			s += fmt.Sprintf(" The release's manifest anchors the first %d (the case has no manifest of its own: its execution did not finalize it)", c.ReleaseAnchoredRecords)
			s += appended(c.AfterAnchor)
		case c.Anchored && c.AfterAnchor > 0:
			s += fmt.Sprintf(" The manifest anchors the first %d; %d were appended after it.", c.AnchoredRecords, c.AfterAnchor)
		case c.Anchored:
			s += fmt.Sprintf(" The manifest anchors all %d.", c.AnchoredRecords)
		case c.MACsVerified:
			s += " Not anchored: the case has no manifest yet (still open), so records dropped from its end would not show."
		}
		return s
	case c.FirstBad > 0:
		return fmt.Sprintf("NOT VERIFIED: record %d does not match (%s).", c.FirstBad, c.Problem)
	}
	return "NOT VERIFIED: " + c.Problem + "."
}

// Short states the chain's verification in a few words.
func (c ChainStatus) Short() string {
	switch {
	case c.Verified:
		return fmt.Sprintf("audit chain verified (%d records)", c.Records)
	case c.FirstBad > 0:
		return fmt.Sprintf("audit chain NOT verified: record %d does not match", c.FirstBad)
	}
	return "audit chain NOT verified: " + c.Problem
}

// appended ends the anchors' sentence with what came after the last.
func appended(n int) string {
	if n > 0 {
		return fmt.Sprintf("; %d were appended after it.", n)
	}
	return "; none after it."
}
