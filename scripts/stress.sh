#!/usr/bin/env bash
# stress.sh [irflow-stress flags...]: `make stress`. Builds the irflow CLI and
# the stress program (internal/stress) into a temporary folder and runs
# 200 concurrent incidents, mixed launch types and playbooks, each as its own
# `irflow simulate --aws-endpoint` process, against a fresh moto server
# (.venv, `make py-deps`) behind a fault-injecting proxy (20% throttling; 5%
# HTTP 500, 2% of them lost replies of requests moto applied; added latency).
# It then checks every case's manifest, evidence SHA-256 and audit chain.
# Bounded (-deadline, default 10m) and self-stopping: moto, the proxy and
# every irflow process end with it on every path.
# Progress goes to stderr; the last line on stdout is the JSON summary
#   {"executions":200,"succeeded":N,"failed":N,"lost":N,"correlated":N,"faultsInjected":N,"p50ms":N,"p99ms":N}
# (correlated: succeeded executions whose finding joined an open case of its
# service, each checked to be recorded in that case's verified audit chain)
# Exit 0 only when all succeeded, nothing was lost and faults were injected.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOFLAGS=${GOFLAGS:--buildvcs=false}
[ -x .venv/bin/moto_server ] || { echo "stress.sh: .venv/bin/moto_server missing: run \`make py-deps\`" >&2; exit 2; }
tmp=$(mktemp -d -t irflow-stress.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/irflow" ./cmd/irflow
go build -o "$tmp/irflow-stress" ./cmd/irflow-stress
# Keep the run's files (inputs, each execution's output and logs,
# report.json) where a failure can be read after the temporary folder goes.
# IRFLOW_STRESS_DIR moves it.
work=${IRFLOW_STRESS_DIR:-}
if [ -z "$work" ]; then
  work=build/stress
  rm -rf "$work"
fi
mkdir -p "$work"
status=0
"$tmp/irflow-stress" -irflow "$tmp/irflow" -workflows workflows -workdir "$work" "$@" || status=$?
exit "$status"
