# Face Liveness Scanner — the two commands that matter:
#   make run    the whole pipeline on a local real stack, with a sample capture through it
#   make test   unit and integration tests against the real stack (started if needed)
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
GO ?= go

# Shared, read-only inputs (never copied into the repo) and the ONNX Runtime
# library installed by scripts/onnxruntime.sh. Absolute, so tests running in
# their package folders find them too.
export MODELS_DIR ?= $(abspath $(CURDIR)/../shared/models)
export FACES_DIR ?= $(abspath $(CURDIR)/../shared/faces)
export ONNXRUNTIME_LIB ?= $(CURDIR)/.stack/onnxruntime/libonnxruntime.so.1

GOTESTSUM := $(GO) run gotest.tools/gotestsum@v1.13.0
STATICCHECK := $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2
TEST_TIMEOUT ?= 30m

.PHONY: run test test-cuda unit lint build deps bench bench-pipeline bench-query fuzz token stack-up stack-down stack-status migrate clean

run: stack-up build
	scripts/run.sh

build: deps
	$(GO) build -o bin/ ./cmd/...

## System packages (libjpeg-turbo headers for cgo; Java, Maven, npm if missing).
deps:
	scripts/deps.sh

## Tests: unit tests and the integration suite (build tag `integration`)
## against the real Kafka broker and ClickHouse server.
test: stack-up
	$(GOTESTSUM) --format pkgname-and-test-fails --junitfile .stack/junit.xml -- \
		-tags integration -count=1 -timeout $(TEST_TIMEOUT) ./...

## Unit tests only: no broker, no database (ONNX Runtime and ../shared still needed by inference).
unit: deps
	$(GO) test -count=1 ./...

lint: deps
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [[ -n "$$out" ]]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet -tags integration ./...
	$(STATICCHECK) -tags integration ./...

## Engine: every strategy (batch 1/16, workers, threads) on 640x480 and 12 MP captures, each
## model's own run, CPU ms per image and per stage (primary on a shared machine), images/s, RSS.
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 3 ./internal/avro/ ./internal/imagefile/
	$(GO) test -run '^$$' -bench 'Engine|Models' -benchtime 64x ./inference/
	$(GO) test -run '^$$' -bench . -benchtime 32x ./inference/liveness/

## On a machine with an NVIDIA GPU and CUDA 13's libraries on LD_LIBRARY_PATH: every
## inference suite and the engine benchmark on ONNX Runtime's CUDA provider (onnxruntime-gpu).
test-cuda:
	scripts/onnxruntime.sh install-cuda
	INFERENCE_DEVICE=cuda ONNXRUNTIME_LIB=$$(scripts/onnxruntime.sh path-cuda) $(GO) test -count=1 -timeout $(TEST_TIMEOUT) ./inference/...
	cd inference && INFERENCE_DEVICE=cuda ONNXRUNTIME_LIB=$$(../scripts/onnxruntime.sh path-cuda) $(GO) test -run '^$$' -bench 'Engine(640x480|12MP)' -benchtime 256x .

## 2,000 captures through ingest → Kafka → processor → results, against the
## engine alone on the same images (not a timed test; see README). BENCH_COUNT,
## BENCH_CONCURRENCY, BENCH_HALF_COUNT... tune it.
bench-pipeline: stack-up
	$(GO) run ./scripts/benchpipeline

## BENCH_SCANS (default 1,000,000) generated scans through Kafka and the sink,
## clickhouse-client's insert of the same rows, then get/list/deep page/stats
## load on loopback (not a timed test; see README "Query benchmark").
bench-query: stack-up
	$(GO) run ./cmd/query bench

## Short fuzzing of every decoder that faces untrusted bytes.
fuzz:
	for t in $$(grep -ho 'func Fuzz[A-Za-z0-9_]*' -r --include='*_test.go' internal inference | cut -d' ' -f2 | sort -u); do \
		pkg=$$(dirname $$(grep -rl "func $$t(" --include='*_test.go' internal inference | head -1)); \
		echo "== $$t ($$pkg)"; $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $${FUZZTIME:-30s} ./$$pkg; \
	done

## A short-lived dev token: make token COMPANY=<uuid> USER=<id> SCOPES="read write"
token:
	@$(GO) run ./cmd/query token $(if $(COMPANY),--company $(COMPANY)) $(if $(USER_ID),--user $(USER_ID)) $(if $(SCOPES),--scopes "$(SCOPES)")

migrate: stack-up
	$(GO) run ./cmd/query migrate

stack-up:
	scripts/stack.sh up

stack-down:
	scripts/stack.sh down

stack-status:
	scripts/stack.sh status

clean: stack-down
	rm -rf bin .stack
