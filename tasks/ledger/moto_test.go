package ledger_test

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/irflow/irflow/internal/mototest"
	"github.com/irflow/irflow/internal/stricttest"
	"github.com/irflow/irflow/tasks/ledger"
)

func TestMain(m *testing.M) { stricttest.Main(m) }

// TestMotoConcurrentAppends: eight writers append to one case's ledger at
// once, through the strict layer (whose DynamoDB conditional writes are
// atomic, as AWS's are), each twice; every entry is there once.
func TestMotoConcurrentAppends(t *testing.T) {
	l := stricttest.Start(t)
	s := ledger.NewStore(l.Cfg, stricttest.IncidentsTable(t, l.Cfg))
	ctx := context.Background()
	caseID := mototest.Unique("case-ledger")
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 2 {
				e, err := ledger.New(fmt.Sprintf("e%d", i), ledger.KindDrain, "protect", "protect-instance", "ci",
					ledger.DrainData{Cluster: "c", ContainerInstanceArn: "ci", PreviousStatus: "ACTIVE"}, time.Now())
				if err == nil {
					_, err = s.Append(ctx, caseID, e)
				}
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got, err := s.Read(ctx, caseID)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range got.Entries {
		ids = append(ids, e.ID)
	}
	sort.Strings(ids)
	if fmt.Sprint(ids) != "[e0 e1 e2 e3 e4 e5 e6 e7]" || got.Version != 8 {
		t.Errorf("entries %v at version %d; want e0..e7 once each at version 8", ids, got.Version)
	}
	if _, err := s.MarkRemoved(ctx, caseID, "release", "e3"); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Read(ctx, caseID)
	if e := got.Find("e3"); e == nil || !e.Removed() || len(got.Active(ledger.KindDrain)) != 7 {
		t.Errorf("after removing e3: %+v", got.Entries)
	}
}
