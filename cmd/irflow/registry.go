package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/irflow/irflow/generator/simulate"
	"github.com/irflow/irflow/tasks/registry"
)

// init plugs the real task handlers into `irflow simulate --aws-endpoint`:
// each action runs in process, audited, against the given AWS-compatible
// endpoint (moto server locally), configured by the IRFLOW_* environment.
func init() {
	realHandlers = func(ctx context.Context, endpoint string) (simulate.Handlers, error) {
		var missing []string
		for _, v := range requiredStores {
			if os.Getenv(v) == "" {
				missing = append(missing, v)
			}
		}
		if len(missing) > 0 {
			return nil, fmt.Errorf("the real handlers need irflow's stores: set %s (make demo shows a seeded world)", strings.Join(missing, ", "))
		}
		cfg, err := registry.ConfigFor(ctx, endpoint)
		if err != nil {
			return nil, err
		}
		out := simulate.Handlers{}
		for name, h := range registry.Handlers(ctx, cfg, registry.EnvFromOS()) {
			out[name] = simulate.TaskHandler(h)
		}
		return out, nil
	}
}

// requiredStores are the IRFLOW_* variables without which no response can run.
var requiredStores = []string{"IRFLOW_EVIDENCE_BUCKET", "IRFLOW_AUDIT_TABLE", "IRFLOW_APPROVALS_TABLE", "IRFLOW_INCIDENTS_TABLE", "IRFLOW_TOPIC_ARN"}
