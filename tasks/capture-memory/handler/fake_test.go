package handler

import (
	"context"

	"github.com/irflow/irflow/tasks/hostcmd"
	"github.com/irflow/irflow/tasks/internal/taskrt"
)

type fakeHistory struct {
	records []taskrt.Record
}

var _ hostcmd.History = (*fakeHistory)(nil)

func (f *fakeHistory) Read(context.Context, string) ([]taskrt.Record, error) { return f.records, nil }
