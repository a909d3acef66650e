#!/usr/bin/env bash
# demo.sh: `make demo` (after `make deps`). Builds every task Lambda and the
# CLI, compiles every playbook, then runs a full local incident response on
# a Fargate and an EC2 task against moto server (started from .venv on a free
# loopback port by with-moto.sh, stopped on every exit path). No AWS account,
# no Docker, no network beyond 127.0.0.1. What it shows: docs/demo.md.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOFLAGS=${GOFLAGS:--buildvcs=false}
start=$(date +%s)
trap 'rc=$?; [ $rc -eq 0 ] || echo "demo: FAILED (exit $rc) after $(($(date +%s) - start))s; moto is stopped; handler logs: build/demo/handlers.log" >&2' EXIT

[ -x .venv/bin/moto_server ] || { echo "demo: .venv/bin/moto_server not found; run make deps" >&2; exit 2; }

echo "== Build: every task Lambda (linux/arm64, provided.al2023) =="
scripts/build-tasks.sh
# Sizes, three to a line, largest first.
for f in build/tasks/*/bootstrap; do
  printf '%s %s\n' "$(wc -c <"$f")" "$(basename "$(dirname "$f")")"
done | sort -rn | awk '{ printf "  %-26s %5.1f MB", $2, $1/1048576; if (NR % 3 == 0) printf "\n" } END { if (NR % 3) printf "\n" }'

echo
echo "== Build: the irflow CLI and the demo =="
go build -o bin/irflow ./cmd/irflow
go build -o build/bin/irflow-demo ./cmd/irflow-demo
echo "  bin/irflow, build/bin/irflow-demo"

echo
echo "== Compile: every playbook (bin/irflow compile workflows --out build/asl) =="
rm -rf build/asl
bin/irflow compile workflows --out build/asl | sed 's/^/  /'

echo
scripts/with-moto.sh build/bin/irflow-demo --out build/demo --irflow bin/irflow

echo
echo "demo: done in $(($(date +%s) - start))s (moto stopped)"
