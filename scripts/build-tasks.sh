#!/usr/bin/env bash
# build-tasks.sh [OUT]: builds every task Lambda (tasks/<name>/main.go) for
# linux/arm64 into OUT/<name>/bootstrap (default build/tasks), the way the
# provided.al2023 runtime wants it.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-build/tasks}
mkdir -p "$out"
n=0
for main in tasks/*/main.go; do
  name=$(basename "$(dirname "$main")")
  mkdir -p "$out/$name"
  GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -tags lambda.norpc -trimpath -ldflags='-s -w' \
    -o "$out/$name/bootstrap" "./tasks/$name"
  n=$((n+1))
done
echo "built $n task Lambdas into $out"
