# irflow: `make test` installs what the tests need (Go modules, npm ci, a
# project-local Python venv) and runs every check; `make demo` runs a local
# incident response against moto server on both launch types.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
GO ?= go
export GOFLAGS := -buildvcs=false
export CDK_DISABLE_CLI_TELEMETRY := 1
export CDK_DISABLE_VERSION_CHECK := 1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
VENV := .venv
FUZZSCALE ?= 1

.PHONY: all test deps go-deps infra-deps node-deps py-deps vet unit fuzz asl irflow irflow-demo build synth deploy infra-test demo bench stress containment clean

all: test

## deps: Go modules, the pinned Node tools (npm ci) and the Python venv.
deps: go-deps infra-deps node-deps py-deps

## go-deps: the root module's Go modules (the CLI, the Lambdas, the bench).
go-deps:
	$(GO) mod download

## infra-deps: the CDK app's Go modules (a module of its own: ~80 MB of CDK).
infra-deps:
	cd infra && $(GO) mod download

node-deps: node_modules/.installed
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

## py-deps: the project-local venv with requirements.txt, installed by uv
## (pinned here, from PyPI): pip took over a minute to install moto[server]
## from a warm cache, most of a fresh clone's `make demo`; uv takes seconds.
UV_VERSION := 0.13.9
py-deps: $(VENV)/.installed
$(VENV)/.installed: requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --disable-pip-version-check -q uv==$(UV_VERSION)
	$(VENV)/bin/uv pip install --python $(VENV)/bin/python -q -r requirements.txt
	touch $@

## irflow: the CLI, built into bin/.
irflow:
	$(GO) build -ldflags "-X main.commit=$$(git rev-parse --short=12 HEAD 2>/dev/null)" -o bin/irflow ./cmd/irflow

## irflow-demo: the test bench (moto behind the AWS-strict layer, the named
## worlds, a playbook run with the real handlers), built into bin/.
irflow-demo:
	$(GO) build -o bin/irflow-demo ./cmd/irflow-demo

## test: every check CI runs.
test: deps vet unit fuzz asl infra-test

## vet: go vet, gofmt, and go.mod/go.sum tidy (root module and infra).
vet:
	$(GO) vet ./...
	$(GO) mod tidy -diff
	cd infra && $(GO) mod tidy -diff
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

## unit: every Go test of the root module; moto server (.venv) and the Node
## cross-check (node_modules) are required, not skipped. Then the playbook
## library's scenarios (workflows/*.test.yaml) through the CLI.
unit: node-deps py-deps irflow
	IRFLOW_REQUIRE_MOTO=1 IRFLOW_REQUIRE_NODE=1 $(GO) test -count=1 ./...
	bin/irflow test workflows

## fuzz: a short run of each fuzz target (compile, input normalization,
## payload decoding) from its kept corpus (testdata/fuzz/).
fuzz:
	scripts/fuzz.sh $(FUZZSCALE)

## stress: 200 concurrent incidents with `irflow simulate --aws-endpoint`
## against moto behind a fault-injecting proxy; prints a JSON summary last.
stress: py-deps
	scripts/stress.sh

## containment: the bench as the acceptance test of containment, every shipped
## playbook on every world (approved; rejected after a Fargate isolation),
## judged from the summary and moto (internal/demo TestContainment; make test
## runs it for crypto-mining and reverse-shell-c2).
containment: py-deps
	IRFLOW_REQUIRE_MOTO=1 $(GO) test -count=1 -tags matrix -timeout 90m -run TestContainment -v ./internal/demo

## bench: measures compile, simulate, transitions, Lambdas, synth and the AWS
## round trips to containment (bin/irflow-demo on every playbook and world) into BENCHMARKS.md.
bench: deps
	scripts/bench.sh

## build: every task Lambda for linux/arm64 into build/tasks/<action>/bootstrap.
build:
	scripts/build-tasks.sh

## synth: the CDK app into cdk.out/, offline; builds the function binaries first.
synth: build node-deps infra-deps
	scripts/synth.sh cdk.out

## deploy: cdk deploy to the current AWS credentials' account (docs/deploy.md), e.g. CDK_ARGS='-c approvers=arn:...'
deploy: build node-deps infra-deps
	scripts/deploy.sh $(CDK_ARGS)

## infra-test: CDK assertions and cdk-nag tests, synth with placeholder code, cfn-lint, template checks.
infra-test: node-deps py-deps infra-deps
	scripts/test-infra.sh

## asl: asl-validator on every compiled playbook and every golden ASL.
asl: irflow node-deps
	rm -rf build/asl && bin/irflow compile workflows --out build/asl >/dev/null
	scripts/asl-validate.sh build/asl generator/testdata

## demo: the CLI and the bench, every playbook compiled, then a full local
## incident response on both launch types against moto behind the AWS-strict
## layer, gates decided through the approval API; writes build/demo/summary.json
## (docs/demo.md). Only what the demo needs: no CDK, no Node, no Lambda bundles.
demo: go-deps py-deps
	scripts/demo.sh

clean:
	rm -rf bin build cdk.out
