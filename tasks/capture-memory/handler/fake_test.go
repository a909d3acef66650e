package handler

import (
	"context"

	"github.com/irflow/irflow/tasks/audit"
	"github.com/irflow/irflow/tasks/hostcmd"
)

type fakeHistory struct {
	records []audit.Record
}

var _ hostcmd.History = (*fakeHistory)(nil)

func (f *fakeHistory) Read(context.Context, string) ([]audit.Record, error) { return f.records, nil }
