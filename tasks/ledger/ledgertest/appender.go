// Package ledgertest is the containment ledger of the containing actions'
// unit tests.
package ledgertest

import (
	"context"

	"github.com/irflow/irflow/tasks/ledger"
)

// Appender is a ledger.Appender in memory: Append first calls OnAppend
// (if set, for tests that order the calls), then fails with Err or keeps
// the entries.
type Appender struct {
	Entries  []ledger.Entry
	Err      error
	OnAppend func()
}

var _ ledger.Appender = (*Appender)(nil)

func (a *Appender) Append(_ context.Context, caseID string, entries ...ledger.Entry) (*ledger.Ledger, error) {
	if a.OnAppend != nil {
		a.OnAppend()
	}
	if a.Err != nil {
		return nil, a.Err
	}
	a.Entries = append(a.Entries, entries...)
	return &ledger.Ledger{CaseID: caseID, Entries: a.Entries}, nil
}
