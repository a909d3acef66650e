#!/usr/bin/env bash
# synth.sh [OUTDIR] [CDK ARGS...]: synthesizes the CDK app (infra/, run by
# cdk.json) into OUTDIR (default cdk.out) with the pinned local CDK CLI,
# offline: no notices, telemetry, version check, lookups or metadata
# resource. The function code comes from build/tasks (`make build`) unless
# a `-c assetDir=DIR` argument says otherwise.
#
# Fails when the CLI fails and, to be sure, when any aws:cdk:error
# metadata (cdk-nag findings, construct errors) is left in OUTDIR.
set -euo pipefail
cd "$(dirname "$0")/.."

out=${1:-cdk.out}
[ $# -gt 0 ] && shift

cdk=node_modules/.bin/cdk
[ -x "$cdk" ] || { echo "synth.sh: $cdk missing: run \`make node-deps\`" >&2; exit 1; }

export CDK_DISABLE_CLI_TELEMETRY=1 CDK_DISABLE_VERSION_CHECK=1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20
export GOFLAGS=${GOFLAGS:--buildvcs=false}
# Without credentials the CLI would otherwise wait on the EC2 metadata
# endpoint to guess an account.
export AWS_EC2_METADATA_DISABLED=${AWS_EC2_METADATA_DISABLED:-true}

# A stale cloud assembly would keep assets of functions that no longer exist.
if [ -e "$out" ]; then
  [ -f "$out/manifest.json" ] || [ -z "$(ls -A "$out")" ] ||
    { echo "synth.sh: $out exists and is not a cloud assembly; not deleting it" >&2; exit 1; }
  rm -rf "$out"
fi

start=$(date +%s)
"$cdk" synth --no-notices --no-version-reporting --no-lookups --quiet --output "$out" "$@"

errors=$(grep -rl --include='*.json' '"aws:cdk:error"' "$out" || true)
if [ -n "$errors" ]; then
  echo "synth.sh: aws:cdk:error metadata in:" >&2
  echo "$errors" >&2
  exit 1
fi
templates=$(find "$out" -maxdepth 1 -name '*.template.json' | sort)
[ -n "$templates" ] || { echo "synth.sh: no template in $out" >&2; exit 1; }
echo "synth.sh: $(echo "$templates" | wc -l) template(s) in $out, no aws:cdk:error ($(( $(date +%s) - start ))s)"
