#!/usr/bin/env bash
# bench.sh [OUT]: measures irflow and writes OUT (default BENCHMARKS.md), with
# public tools only. `make bench` runs it after `make deps` (Go modules,
# node_modules with aws-local-stepfunctions 3.0.0 and the CDK CLI).
#
#   1. Go benchmarks of the generator (compile, scaling, simulate);
#   2. transitions, invocations, cost and time to containment from
#      simulate.Run (mock mode), and the same ASL timed on
#      aws-local-stepfunctions (bench/node/stepfunctions.mjs);
#   3. the task Lambdas: arm64 bootstrap sizes (scripts/build-tasks.sh), and
#      cold and warm invocations of amd64 copies under the Lambda runtime
#      interface emulator, installed from the Go module proxy into bin/;
#   4. warm `cdk synth` (scripts/synth.sh) against `irflow compile`;
#   5. AWS round trips to containment: bin/irflow-demo runs every shipped
#      playbook on the bench's worlds (moto behind the AWS-strict layer,
#      whose request log times every AWS call) and writes its summaries.
#   6. the finding storm: `irflow-demo --world storm` with crypto-mining
#      approved (executions, transitions, invocations, wall time; moto and
#      the strict layer from the .venv).
# bench/cmd/report measures and renders; raw results stay in build/bench/.
#
# Knobs (environment): BENCH_COUNT (go test -count, default 5),
# BENCH_BENCHTIME (default 1s), BENCH_COLD (cold starts per Lambda, 9),
# BENCH_WARM (warm invokes, 50), BENCH_SYNTH_RUNS (3), BENCH_SIM_RUNS (30),
# BENCH_RT_PLAYBOOKS (playbook names, default every shipped one) and
# BENCH_RT_WORLDS (the worlds of the round trips, default those below).
set -euo pipefail
cd "$(dirname "$0")/.."

out=${1:-BENCHMARKS.md}
count=${BENCH_COUNT:-5}
benchtime=${BENCH_BENCHTIME:-1s}
cold=${BENCH_COLD:-9}
warm=${BENCH_WARM:-50}
synth_runs=${BENCH_SYNTH_RUNS:-3}
sim_runs=${BENCH_SIM_RUNS:-30}
rt_playbooks=${BENCH_RT_PLAYBOOKS:-$(for f in workflows/*.yaml; do case $f in *.test.yaml) ;; *) basename "$f" .yaml;; esac; done)}
rt_worlds=${BENCH_RT_WORLDS:-fargate fargate-public-ip fargate-exec shared-nacl nacl-full ec2-bridge ec2-host ec2-awsvpc no-ssm-endpoints}
rie_version=v0.0.0-20261030222936-bef5c4ba774d

export GOFLAGS=${GOFLAGS:--buildvcs=false}
export CDK_DISABLE_CLI_TELEMETRY=1 CDK_DISABLE_VERSION_CHECK=1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20

start=$(date +%s)
data=build/bench
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rm -rf "$data" && mkdir -p "$data"
# step announces a phase and notes the load average as it starts.
step() {
  echo "== bench: $* ($(( $(date +%s) - start ))s)" >&2
  printf '%s\t%s\n' "$1" "$(cut -d' ' -f1-3 /proc/loadavg)" >>"$data/load.tsv"
}

pkg=node_modules/aws-local-stepfunctions/package.json
grep -q '"version": "3.0.0"' "$pkg" 2>/dev/null ||
  { echo "bench.sh: aws-local-stepfunctions 3.0.0 missing from node_modules: run \`make deps\`" >&2; exit 1; }
[ -x node_modules/.bin/cdk ] || { echo "bench.sh: the CDK CLI is missing: run \`make deps\`" >&2; exit 1; }

go build -o "$tmp/report" ./bench/cmd/report
# First, before anything loads the machine: the machine and its load.
"$tmp/report" machine -out "$data/machine.json"

step "tools" "aws-lambda-rie ${rie_version} from the Go module proxy into bin/"
GOBIN=$PWD/bin CGO_ENABLED=0 go install \
  "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@${rie_version}"

step "go-benchmarks" "1/6 Go benchmarks (-count ${count}, -benchtime ${benchtime})"
# The test binary runs ${count} whole passes rather than -count ${count}: -count
# repeats each benchmark back to back, so a burst of load from other work
# would land on a few rows; passes spread it over all of them. The output is
# what `go test -bench -count N` prints (benchstat reads it too).
go test -c -o "$tmp/generator.test" ./generator
go test -c -o "$tmp/simulate.test" ./generator/simulate
for i in $(seq "$count"); do
  (cd generator && "$tmp/generator.test" -test.run '^$' -test.benchmem -test.benchtime "$benchtime" \
    -test.bench '^(BenchmarkCompile|BenchmarkCompileAll|BenchmarkCompileSteps)$')
  (cd generator/simulate && "$tmp/simulate.test" -test.run '^$' -test.benchmem -test.benchtime "$benchtime" \
    -test.bench '^BenchmarkSimulate$')
done | tee "$data/go-bench.txt" >&2

step "simulations" "2/6 simulations, and the same ASL on aws-local-stepfunctions"
"$tmp/report" sim -root . -warm-runs "$sim_runs" -node-runs "$sim_runs" \
  -out "$data/sim.json" -job "$data/node-job.json"
node --import ./scripts/crosscheck/polyfill.mjs bench/node/stepfunctions.mjs "$data/node-job.json" >"$data/node.json"

step "lambdas" "3/6 task Lambdas: arm64 builds (sizes), amd64 copies under the emulator (timings)"
scripts/build-tasks.sh >&2
# One go build for all: the same flags as scripts/build-tasks.sh, this
# machine's architecture, into a temporary directory.
arch=$(go env GOHOSTARCH)
pkgs=()
for main in tasks/*/main.go; do pkgs+=("./$(dirname "$main")"); done
mkdir -p "$tmp/bin"
GOOS=linux GOARCH="$arch" CGO_ENABLED=0 go build -tags lambda.norpc -trimpath -ldflags='-s -w' \
  -o "$tmp/bin/" "${pkgs[@]}" ./bench/cmd/nulllambda
for p in "${pkgs[@]}" ./bench/cmd/nulllambda; do
  name=$(basename "$p")
  mkdir -p "$tmp/timed/$name"
  mv "$tmp/bin/$name" "$tmp/timed/$name/bootstrap"
done
mkdir -p "$tmp/baseline"
mv "$tmp/timed/nulllambda/bootstrap" "$tmp/baseline/bootstrap" && rmdir "$tmp/timed/nulllambda"
"$tmp/report" lambda -rie bin/aws-lambda-rie -arm64 build/tasks -timed "$tmp/timed" -baseline "$tmp/baseline" \
  -cold "$cold" -warm "$warm" -out "$data/lambda.json"

step "synth" "4/6 warm cdk synth (${synth_runs} runs after a warm-up) and irflow compile"
go build -o "$tmp/irflow" ./cmd/irflow
"$tmp/report" synth -root . -irflow "$tmp/irflow" -tmp "$tmp" -runs "$synth_runs" -out "$data/synth.json"

step "round-trips" "5/6 AWS round trips to containment: bin/irflow-demo, every playbook on: ${rt_worlds}"
go build -o "$tmp/irflow-demo" ./cmd/irflow-demo
export IRFLOW_MOTO_SERVER=${IRFLOW_MOTO_SERVER:-$PWD/.venv/bin/moto_server}
mkdir -p "$data/round-trips"
worlds=()
for w in $rt_worlds; do worlds+=(--world "$w"); done
for pb in $rt_playbooks; do
  # A case that does not end as the bench expects makes irflow-demo exit 1:
  # the report still shows its row (status, refusals, problems).
  # --latency: each AWS request takes at least a real endpoint's round
  # trip, so concurrent requests overlap whatever the load (section 7).
  "$tmp/irflow-demo" --playbook "workflows/$pb.yaml" "${worlds[@]}" --latency 50ms --summary "$data/round-trips/$pb.json" \
    --out "$tmp/demo/$pb" >"$data/round-trips/$pb.log" 2>&1 ||
    echo "bench.sh: irflow-demo on $pb exited $? (see $data/round-trips/$pb.log)" >&2
done
"$tmp/report" roundtrips -out "$data/roundtrips.json" "$data"/round-trips/*.json
step "storm" "6/6 the finding storm (irflow-demo --world storm, crypto-mining, approved)"
[ -x .venv/bin/moto_server ] || { echo "bench.sh: .venv/bin/moto_server missing: run \`make py-deps\`" >&2; exit 1; }
go build -o "$tmp/irflow-demo" ./cmd/irflow-demo
"$tmp/irflow-demo" --world storm --playbook workflows/crypto-mining.yaml --decide approve \
  --summary "$data/storm-summary.json" --out "$tmp/storm" >"$data/storm.txt"
cp "$tmp/storm/storm.json" "$data/storm.json"

wall=$(( $(date +%s) - start ))
"$tmp/report" render -dir "$data" -wall "$wall" -out "$out"
echo "== bench: wrote $out in ${wall}s (raw results in $data/)" >&2
