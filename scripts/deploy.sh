#!/usr/bin/env bash
# deploy.sh [CDK ARGS...]: deploys irflow with the pinned local CDK CLI to
# the account and region of the current AWS credentials (AWS_PROFILE,
# AWS_REGION). The environment must be bootstrapped once (`cdk bootstrap`,
# see docs/deploy.md) and the function binaries built (`make build`).
# Extra arguments go to `cdk deploy`, e.g. -c approvers=arn:...,arn:...
# -c notificationEmails=soc@example.com. Not run by any test.
set -euo pipefail
cd "$(dirname "$0")/.."

cdk=node_modules/.bin/cdk
[ -x "$cdk" ] || { echo "deploy.sh: $cdk missing: run \`make node-deps\`" >&2; exit 1; }
# The app itself names every missing binary; this is the short answer.
if ! compgen -G 'build/tasks/*/bootstrap' >/dev/null; then
  echo "deploy.sh: no function binaries in build/tasks: run \`make build\`" >&2
  exit 1
fi

export CDK_DISABLE_CLI_TELEMETRY=1 CDK_DISABLE_VERSION_CHECK=1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20
export GOFLAGS=${GOFLAGS:--buildvcs=false}

# broadening: CloudFormation asks before any IAM or security-group change
# that widens access; pass --require-approval never in a pipeline.
"$cdk" deploy --no-notices --require-approval broadening --output cdk.out "$@"
