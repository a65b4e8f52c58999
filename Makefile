# ferry's build. `make demo` and `make test` need only Go and a C compiler
# (DuckDB is linked through cgo).

GO        ?= go
# duckdb-go's Arrow interface, which staging uses, is behind this tag.
export GOFLAGS := -tags=duckdb_arrow
export CGO_ENABLED := 1

PLUGINS    := $(patsubst plugins/%/main.go,%,$(wildcard plugins/*/main.go))
TRANSFORMS := $(patsubst transforms/%/main.go,%,$(wildcard transforms/*/main.go))
VERSION    := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
# No symbol table or DWARF: the binaries are a fifth smaller; panics still
# name their functions.
LDFLAGS    := -s -w
TOOLS      := $(CURDIR)/.tools
PROTOC_GEN_GO_VERSION      := v1.36.12
PROTOC_GEN_GO_GRPC_VERSION := v1.6.2

DEMO      := demo-workspace
DEMO_DESK := testdata/sample/helpdesk.json

.PHONY: all build test test-long demo bench proto clean

all: build

## build: bin/ferry, bin/ferry-source-<name> for every plugin, transforms/<name>/<name>.wasm
build:
	@mkdir -p bin
	$(GO) build -ldflags "$(LDFLAGS) -X main.version=$(VERSION)" -o bin/ferry ./cmd/ferry
	@for p in $(PLUGINS); do \
		echo "$(GO) build -ldflags \"$(LDFLAGS)\" -o bin/ferry-source-$$p ./plugins/$$p"; \
		$(GO) build -ldflags "$(LDFLAGS)" -o bin/ferry-source-$$p ./plugins/$$p || exit 1; \
	done
	@for t in $(TRANSFORMS); do \
		echo "GOOS=wasip1 GOARCH=wasm $(GO) build -buildmode=c-shared -o transforms/$$t/$$t.wasm ./transforms/$$t"; \
		GOOS=wasip1 GOARCH=wasm $(GO) build -buildmode=c-shared -o transforms/$$t/$$t.wasm ./transforms/$$t || exit 1; \
	done

## test: formatting, vet, and every test (unit, fuzz seed corpora, end to end against the built binaries)
test: build
	@out=$$(gofmt -l cmd host plugins sdk transforms); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	GOOS=wasip1 GOARCH=wasm $(GO) vet ./sdk/transform/... ./transforms/...
	FERRY_BIN_DIR=$(CURDIR)/bin $(GO) test -count=1 -timeout 20m ./...

## test-long: the long suite: the tests of test at full size (FERRY_LONG=1: a 5,000-comment ticket, 5 MB bodies, ...)
test-long: build
	FERRY_LONG=1 FERRY_BIN_DIR=$(CURDIR)/bin $(GO) test -count=1 -timeout 120m ./...

## demo: generate a sample help desk, migrate it into the local Intercom sandbox, print the summary
demo: build
	@rm -rf $(DEMO) && mkdir -p $(DEMO) testdata/sample
	@set -e; \
	export INTERCOM_TOKEN=demo-intercom-token ZENDESK_TOKEN=demo-zendesk-token; \
	bin/ferry sandbox --helpdesk $(DEMO_DESK) --seed 7 --tickets 200 \
		--intercom-token $$INTERCOM_TOKEN --zendesk-email demo@acme.example --zendesk-token $$ZENDESK_TOKEN \
		> $(DEMO)/sandbox.urls 2> $(DEMO)/sandbox.log & pid=$$!; \
	trap 'kill $$pid 2>/dev/null; wait $$pid 2>/dev/null || true' EXIT; \
	for i in $$(seq 100); do [ "$$(wc -l < $(DEMO)/sandbox.urls)" -ge 2 ] && break; kill -0 $$pid || { cat $(DEMO)/sandbox.log; exit 1; }; sleep 0.1; done; \
	intercom=$$(awk '$$1 == "intercom" {print $$2}' $(DEMO)/sandbox.urls); \
	zendesk=$$(awk '$$1 == "zendesk" {print $$2}' $(DEMO)/sandbox.urls); \
	cat $(DEMO)/sandbox.log; \
	printf '%s\n' \
		"# The demo's migration: the Zendesk emulator into the Intercom sandbox." \
		"source:" \
		"  plugin: zendesk" \
		"  config: { base_url: \"$$zendesk\", email: \"demo@acme.example\", token: \"\$${ZENDESK_TOKEN}\" }" \
		"transforms:" \
		"  - wasm: ../transforms/legacy-id-subject/legacy-id-subject.wasm" \
		"    config: { prefix: \"ZD\" }" \
		"target:" \
		"  intercom: { base_url: \"$$intercom\", token: \"\$${INTERCOM_TOKEN}\" }" \
		"options:" \
		"  tag_migrated: \"migrated\"" \
		> $(DEMO)/ferry.yaml; \
	bin/ferry migrate -w $(DEMO); \
	echo; echo "ferry report -w $(DEMO) --json:"; bin/ferry report -w $(DEMO) --json; \
	echo; echo "The workspace is $(CURDIR)/$(DEMO)/ferry.duckdb; query it with:"; \
	echo "  bin/ferry query -w $(DEMO) \"SELECT entity, outcome, count(*) FROM ledger GROUP BY ALL\""

## bench: the benchmarks (6 to 15 minutes, not in test): a table and bench/results.json; FERRY_BENCH_QUICK=1 runs them small
bench: build
	$(GO) run ./bench

## proto: regenerate sdk/proto's Go code (protoc from Debian's protobuf-compiler)
proto:
	@command -v protoc >/dev/null || { echo "protoc not found: apt-get install protobuf-compiler"; exit 1; }
	GOBIN=$(TOOLS) $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)
	GOBIN=$(TOOLS) $(GO) install google.golang.org/grpc/cmd/protoc-gen-go-grpc@$(PROTOC_GEN_GO_GRPC_VERSION)
	PATH=$(TOOLS):$$PATH protoc -I sdk/proto \
		--go_out=sdk/proto --go_opt=paths=source_relative \
		--go-grpc_out=sdk/proto --go-grpc_opt=paths=source_relative \
		sdk/proto/source/v1/source.proto

clean:
	rm -rf bin demo-workspace testdata/sample
	rm -f transforms/*/*.wasm
