#!/usr/bin/env bash
# fuzz.sh [SCALE]: runs each fuzz target for its budget of executions times
# SCALE (default 1; about 10 s each on the 2-core machine), one after
# another, starting from its kept corpus (testdata/fuzz/<Fuzz>/ in its
# package):
#   FuzzCompile        ./generator               playbook compile          20000 runs
#   FuzzNormalize      ./tasks/incident          execution-input normalization  100000 runs
#   FuzzDecodePayload  ./tasks/contract          task payload decoding     20000 runs
# A failure leaves the crasher in the package's testdata/fuzz/<Fuzz>/ (commit
# it with the fix, so it stays a regression test) and exits non-zero.
#
# The budgets are counts (-fuzztime=Nx), not durations: go1.26's fuzzing
# coordinator can report the end of a duration as a failure ("context
# deadline exceeded", no crasher written) when a worker is mid-run as the
# deadline fires, under CPU contention (go.dev/issue/75804, fixed in go1.27);
# a count has no deadline to race. Minimizing (a crasher, or each new
# interesting input) is held to 500 runs: go's default 60 s spends a short run
# minimizing instead of fuzzing.
set -euo pipefail
cd "$(dirname "$0")/.."
scale=${1:-1}
if ! [[ $scale =~ ^[1-9][0-9]*$ ]]; then
  echo "fuzz.sh: SCALE must be a positive whole number, got \"$scale\"" >&2
  exit 2
fi
export GOFLAGS=${GOFLAGS:--buildvcs=false}
for target in FuzzCompile:./generator:20000 FuzzNormalize:./tasks/incident:100000 FuzzDecodePayload:./tasks/contract:20000; do
  IFS=: read -r name pkg runs <<<"$target"
  n=$((runs * scale))
  echo "== fuzz: $name ($pkg) for ${n} runs"
  go test -run='^$' -fuzz="^${name}\$" -fuzztime="${n}x" -fuzzminimizetime=500x "$pkg"
done
