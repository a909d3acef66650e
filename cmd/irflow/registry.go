package main

import (
	"context"

	"github.com/irflow/irflow/generator"
	"github.com/irflow/irflow/tasks/registry"
)

// init plugs the real task handlers into `irflow simulate --aws-endpoint`:
// each action runs in process, audited, against the given AWS-compatible
// endpoint (moto server locally), configured by the IRFLOW_* environment.
func init() {
	realHandlers = func(ctx context.Context, endpoint string) (generator.Handlers, error) {
		cfg, err := registry.ConfigFor(ctx, endpoint)
		if err != nil {
			return nil, err
		}
		out := generator.Handlers{}
		for name, h := range registry.Handlers(ctx, cfg, registry.EnvFromOS()) {
			out[name] = generator.TaskHandler(h)
		}
		return out, nil
	}
}
