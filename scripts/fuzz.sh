#!/usr/bin/env bash
# fuzz.sh [TIME]: runs each fuzz target for TIME (a go test -fuzztime,
# default 10s), one after another, starting from its kept corpus
# (testdata/fuzz/<Fuzz>/ in its package):
#   FuzzCompile        ./generator               playbook compile
#   FuzzNormalize      ./tasks/incident          execution-input normalization
#   FuzzDecodePayload  ./tasks/contract  task payload decoding
# A failure leaves the crasher in the package's testdata/fuzz/<Fuzz>/ (commit
# it with the fix, so it stays a regression test) and exits non-zero.
# Minimizing (a crasher, or each new interesting input) is held to 2s: with
# go's default 60s a crasher found late is still being minimized when the
# fuzz time ends, and the run fails with "context deadline exceeded" instead
# of naming the input (CI, stop 26: an unlisted diagnostic code).
set -euo pipefail
cd "$(dirname "$0")/.."
time=${1:-10s}
export GOFLAGS=${GOFLAGS:--buildvcs=false}
for target in FuzzCompile:./generator FuzzNormalize:./tasks/incident FuzzDecodePayload:./tasks/contract; do
  name=${target%%:*} pkg=${target#*:}
  echo "== fuzz: $name ($pkg) for $time"
  go test -run='^$' -fuzz="^${name}\$" -fuzztime="$time" -fuzzminimizetime=2s "$pkg"
done
