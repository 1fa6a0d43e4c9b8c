# Headroom — build, test, benchmark and demo.
# Everything a target needs it installs itself (Go modules, Debian packages,
# pinned tools under .cache/).

GO        ?= go
BIN       := bin
TOOLS     := $(CURDIR)/.cache/tools
STATICCHECK_VERSION := v0.8.2
PROTOC_GEN_GO_VERSION := v1.36.12
PROTOC_GEN_CONNECT_VERSION := v1.21.1
PKGS      := ./...

.PHONY: all build test test-unit bench demo lint fmt clean

all: build

build: ui
	$(GO) build -o $(BIN)/headroom ./cmd/headroom

## test: vet, unit and integration tests with the race detector. Packages run one
## at a time (-p 1): several hold real load tests that must not share 2 cores.
test: build obs-deps obs-db-deps store-deps report-deps derive-deps
	$(GO) vet $(PKGS)
	$(GO) test -race -count=1 -p 1 -timeout 30m $(PKGS)
	$(MAKE) test-ui

## lint: gofmt, go vet and staticcheck (installed into .cache/tools)
lint: $(TOOLS)/staticcheck
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet $(PKGS)
	$(TOOLS)/staticcheck $(PKGS)

$(TOOLS)/staticcheck:
	GOBIN=$(TOOLS) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

## proto: regenerate the agent protocol's Go code (proto/…/*.pb.go, committed)
## from its .proto with Debian's protoc and the pinned Go plugins
.PHONY: proto proto-deps
proto: proto-deps $(TOOLS)/protoc-gen-go-$(PROTOC_GEN_GO_VERSION) $(TOOLS)/protoc-gen-connect-go-$(PROTOC_GEN_CONNECT_VERSION)
	PATH=$(TOOLS):$$PATH protoc -I proto --go_out=proto --go_opt=paths=source_relative \
	  --connect-go_out=proto --connect-go_opt=paths=source_relative proto/headroom/agent/v1/agent.proto

## proto-deps: Debian's protobuf-compiler (protoc), when missing
proto-deps:
	@command -v protoc >/dev/null 2>&1 || { apt-get update && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends protobuf-compiler; }

$(TOOLS)/protoc-gen-go-$(PROTOC_GEN_GO_VERSION):
	GOBIN=$(TOOLS) $(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)
	touch $@

$(TOOLS)/protoc-gen-connect-go-$(PROTOC_GEN_CONNECT_VERSION):
	GOBIN=$(TOOLS) $(GO) install connectrpc.com/connect/cmd/protoc-gen-connect-go@$(PROTOC_GEN_CONNECT_VERSION)
	touch $@

## bench: headroom beside wrk, fortio, h2load and vegeta at maximum rate on a
## loopback target (HTTP, HTTPS and HTTP/2 tables), then the Go benchmarks
## (among them the server's cost to merge one second of 100 agents × 20 names);
## installs wrk, h2load, fortio and vegeta itself.
## Override: make bench BENCH_SECONDS=10 BENCH_CONNS=64 BENCH_REPEAT=2
BENCH_SECONDS ?= 10
BENCH_CONNS   ?= 64
BENCH_REPEAT  ?= 3
BENCH_TOOLS   ?= wrk,fortio,h2load,vegeta,headroom
BENCH_PROTOS  ?= http,https,h2
BENCH_H2_CONNS ?= 4

bench:
	GO="$(GO)" BENCH_SECONDS=$(BENCH_SECONDS) BENCH_CONNS=$(BENCH_CONNS) \
	  BENCH_REPEAT=$(BENCH_REPEAT) BENCH_TOOLS=$(BENCH_TOOLS) BENCH_PROTOS=$(BENCH_PROTOS) \
	  BENCH_H2_CONNS=$(BENCH_H2_CONNS) bash scripts/bench.sh
	GO="$(GO)" bash scripts/bench-derive.sh
	$(GO) test -run '^$$' -bench 'Merge100Agents20Names|FromSecond20Names' -benchmem -benchtime 20x ./agent/merge/
	$(MAKE) bench-ui

## bench-ui: the dashboard's one-hour-run open time and gzipped bundle size
## (ui/scripts/bench.mjs, fixture data, Debian's Chromium).
.PHONY: bench-ui
bench-ui: ui-deps ui
	cd ui && node scripts/bench.mjs

## demo: a capacity study of the demo shop with Prometheus and traces (KEEP=1 leaves it running)
demo: build obs-deps obs-db-deps report-deps
	KEEP=$(KEEP) scripts/demo

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf $(BIN)

## Observability stack (Prometheus + Jaeger) for the demo and the integration
## tests: scripts/obs-deps, obs-up, obs-down; state in var/obs (OBS_DIR).
.PHONY: obs-deps obs-up obs-down jaeger

## obs-deps: install Debian's prometheus and build the pinned Jaeger, once
obs-deps:
	scripts/obs-deps

## obs-up: start Prometheus and Jaeger on loopback (ports: see scripts/obs-up)
obs-up: obs-deps
	scripts/obs-up

## obs-down: stop them by PID
obs-down:
	scripts/obs-down

## obs-db-deps: the demo's database tier from Debian, when missing: postgresql
## (+contrib), postgresql-15-hypopg, pgbouncer, prometheus-postgres-exporter,
## prometheus-node-exporter, prometheus-process-exporter (scripts/obs-db-up
## starts them; the PgBouncer collector is `headroom demo pgbouncer-exporter`)
.PHONY: obs-db-deps
obs-db-deps:
	scripts/obs-db-deps

## jaeger: build the Jaeger server into .cache/jaeger/<version>/ (skipped when there)
jaeger:
	scripts/build-jaeger

## store-deps: Debian's PostgreSQL server binaries for the store's tests
## (store/storetest runs its own server in a temp folder on a loopback port)
.PHONY: store-deps
store-deps:
	@ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || { apt-get update && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql; }

## derive-deps: Debian's nginx, which derive's real-stack test runs as a child
## process in front of the demo shop (its own config, temp folder, loopback port)
.PHONY: derive-deps
derive-deps:
	@[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null || { apt-get update && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nginx; }

## report-deps: Debian's chromium (PDF reports and their tests), poppler-utils
## (pdfinfo, pdftotext, pdftoppm) and the chart font, when missing
.PHONY: report-deps
report-deps:
	@if [ ! -x /usr/bin/chromium ] || ! command -v pdfinfo >/dev/null || [ ! -d /usr/share/fonts/truetype/liberation ]; then \
	  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium poppler-utils fonts-liberation; \
	fi

## ui: build the dashboard into ui/dist (embedded by ui.FS) when npm is present;
## without npm `headroom serve` shows a page saying to run make build.
.PHONY: ui ui-deps test-ui
ui:
	@if ! command -v npm >/dev/null 2>&1; then echo "npm not found: the dashboard is not built (headroom serve shows a placeholder)"; exit 0; fi; \
	  cd ui && { [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund; } && npm run build

## test-ui: the dashboard's browser tests (playwright-core + Debian's Chromium,
## installed when missing) against a real headroom serve on loopback;
## screenshots in ui/artifacts/
test-ui: ui-deps build
	cd ui && HEADROOM_BIN=$(CURDIR)/$(BIN)/headroom npm test

ui-deps:
	@command -v npm >/dev/null 2>&1 || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs npm; }
