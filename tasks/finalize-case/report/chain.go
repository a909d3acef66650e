package report

import (
	"context"
	"errors"

	"github.com/irflow/irflow/tasks/internal/taskrt"
)

// The audit chain as the task Lambdas write it (docs/internals.md).
type (
	// Record is one audit record.
	Record = taskrt.Record
	// Chain reads and appends a case's records in DynamoDB.
	Chain = taskrt.Chain
	// ChainError names the first record that does not verify.
	ChainError = taskrt.ChainError
	// DynamoAPI is the part of DynamoDB the chain uses.
	DynamoAPI = taskrt.DynamoAPI
)

// Verify recomputes the hash chain of one case's records in seq order and
// returns a *ChainError naming the first record that does not match.
func Verify(records []Record) error { return taskrt.Verify(records) }

// ReadChain returns every record of a case in seq order.
func ReadChain(ctx context.Context, db DynamoAPI, table, caseID string) ([]Record, error) {
	return (&Chain{DB: db, Table: table}).Read(ctx, caseID)
}

// ChainStatus is the verification of a case's chain as the report states it.
type ChainStatus struct {
	Verified bool   `json:"verified"`
	Records  int    `json:"records"`
	HeadHash string `json:"headHash,omitempty"`
	// FirstBad is the seq of the first record that does not verify.
	FirstBad int64  `json:"firstBad,omitempty"`
	Problem  string `json:"problem,omitempty"`
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
