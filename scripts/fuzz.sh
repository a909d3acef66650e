#!/usr/bin/env bash
# fuzz.sh [TIME]: runs each fuzz target for TIME (a go test -fuzztime,
# default 10s), one after another, starting from its kept corpus
# (testdata/fuzz/<Fuzz>/ in its package):
#   FuzzCompile        ./generator               playbook compile
#   FuzzNormalize      ./tasks/incident          execution-input normalization
#   FuzzDecodePayload  ./tasks/contract  task payload decoding
# A failure leaves the crasher in the package's testdata/fuzz/<Fuzz>/ (commit
# it with the fix, so it stays a regression test) and exits non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."
time=${1:-10s}
export GOFLAGS=${GOFLAGS:--buildvcs=false}
for target in FuzzCompile:./generator FuzzNormalize:./tasks/incident FuzzDecodePayload:./tasks/contract; do
  name=${target%%:*} pkg=${target#*:}
  echo "== fuzz: $name ($pkg) for $time"
  go test -run='^$' -fuzz="^${name}\$" -fuzztime="$time" "$pkg"
done
