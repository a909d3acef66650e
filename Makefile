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
FUZZTIME ?= 10s

.PHONY: all test deps go-deps node-deps py-deps vet unit fuzz asl irflow clean

all: test

## deps: Go modules, the pinned Node tools (npm ci) and the Python venv.
deps: go-deps node-deps py-deps

go-deps:
	$(GO) mod download
	cd infra && $(GO) mod download

node-deps: node_modules/.installed
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

py-deps: $(VENV)/.installed
$(VENV)/.installed: requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --disable-pip-version-check -q -r requirements.txt
	touch $@

## irflow: the CLI, built into bin/.
irflow:
	$(GO) build -o bin/irflow ./cmd/irflow

## test: every check CI runs.
test: deps vet unit fuzz asl

vet:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

unit:
	$(GO) test -count=1 ./...

## fuzz: a short run of each fuzz target on its kept corpus.
fuzz:
	$(GO) test -run='^$$' -fuzz='^FuzzCompile$$' -fuzztime=$(FUZZTIME) ./generator

## asl: asl-validator on every compiled playbook and every golden ASL.
asl: irflow node-deps
	rm -rf build/asl && bin/irflow compile workflows --out build/asl >/dev/null
	scripts/asl-validate.sh build/asl generator/testdata

clean:
	rm -rf bin build cdk.out
