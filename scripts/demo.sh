#!/usr/bin/env bash
# demo.sh: `make demo` (after `make go-deps py-deps`). Builds the irflow CLI
# and the bench (bin/irflow-demo), compiles every playbook, then runs the
# default demo: workflows/crypto-mining.yaml on a Fargate and an EC2 world
# and a four-eyes case, against moto server (started by the bench on a free
# loopback port and stopped on every exit path) behind the AWS-strict layer.
# No AWS account, no Docker, no network beyond 127.0.0.1. What it shows:
# docs/demo.md; the JSON summary: build/demo/summary.json.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOFLAGS=${GOFLAGS:--buildvcs=false}
start=$(date +%s)
trap 'rc=$?; [ $rc -eq 0 ] || echo "demo: FAILED (exit $rc) after $(($(date +%s) - start))s; moto is stopped; handler logs: build/demo/handlers.log" >&2' EXIT

[ -x .venv/bin/moto_server ] || { echo "demo: .venv/bin/moto_server not found; run make py-deps" >&2; exit 2; }

echo "== Build: the irflow CLI and the bench =="
go build -o bin/irflow ./cmd/irflow
go build -o bin/irflow-demo ./cmd/irflow-demo
echo "  bin/irflow, bin/irflow-demo"

echo
echo "== Compile: every playbook (bin/irflow compile workflows --out build/asl) =="
rm -rf build/asl
bin/irflow compile workflows --out build/asl | sed 's/^/  /'

echo
rm -rf build/demo
bin/irflow-demo --out build/demo --summary build/demo/summary.json --irflow bin/irflow

echo
echo "demo: done in $(($(date +%s) - start))s (moto stopped)"
