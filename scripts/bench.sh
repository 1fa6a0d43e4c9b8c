#!/usr/bin/env bash
# `make bench`: headroom beside wrk, fortio, h2load and vegeta, each
# driving the same loopback target (bench/target) at its maximum rate over
# plain HTTP/1.1, HTTPS and HTTP/2 (one table each), then the repository's
# Go benchmarks. It installs what it needs itself: wrk, h2load
# (nghttp2-client), GNU time and taskset from Debian when missing, fortio
# and vegeta at pinned versions into .cache/tools through the Go module
# proxy.
#
# Settings (environment):
#   BENCH_SECONDS   how long each tool runs in a round            (default 10)
#   BENCH_CONNS     connections / workers / virtual users         (default 64)
#   BENCH_REPEAT    rounds, the tools alternating; pooled at the end (default 3)
#   BENCH_TOOLS     which tools, in order           (default wrk,fortio,h2load,vegeta,headroom)
#   BENCH_PROTOS    which tables: http, https, h2                 (default http,https,h2)
#   BENCH_H2_CONNS  HTTP/2 connections the streams share          (default 4)
#   BENCH_PORT      the target's loopback port                    (default 18999)
#   BENCH_GOTIME    -benchtime of the Go benchmarks               (default 200ms)
#   BENCH_GO        "0" skips the Go benchmarks
#   GO              the go command                                (default go)
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
if ! command -v "$GO" >/dev/null && [ -x /usr/local/go/bin/go ]; then
  GO=/usr/local/go/bin/go
fi
TOOLS=$PWD/.cache/tools
VEGETA_VERSION=v12.13.0
FORTIO_VERSION=v1.63.3
BENCH_SECONDS=${BENCH_SECONDS:-10}
BENCH_CONNS=${BENCH_CONNS:-64}
BENCH_REPEAT=${BENCH_REPEAT:-3}
BENCH_TOOLS=${BENCH_TOOLS:-wrk,fortio,h2load,vegeta,headroom}
BENCH_PROTOS=${BENCH_PROTOS:-http,https,h2}
BENCH_H2_CONNS=${BENCH_H2_CONNS:-4}
BENCH_PORT=${BENCH_PORT:-18999}
BENCH_GOTIME=${BENCH_GOTIME:-200ms}
BENCH_GO=${BENCH_GO:-1}

say() { echo "bench: $*" >&2; }

# Debian packages: wrk, h2load (nghttp2-client), GNU time (/usr/bin/time -v),
# taskset (util-linux).
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v h2load >/dev/null || missing+=(nghttp2-client)
[ -x /usr/bin/time ] || missing+=(time)
command -v taskset >/dev/null || missing+=(util-linux)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=()
  if [ "$(id -u)" != 0 ]; then sudo=(sudo); fi
  say "installing ${missing[*]} with apt-get"
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
fi

# vegeta, pinned, built through the Go module proxy.
if ! "$GO" version -m "$TOOLS/vegeta" 2>/dev/null | grep -q "github.com/tsenart/vegeta/v12[[:space:]]*$VEGETA_VERSION"; then
  say "building vegeta $VEGETA_VERSION into $TOOLS"
  GOBIN=$TOOLS "$GO" install "github.com/tsenart/vegeta/v12@$VEGETA_VERSION"
fi

# fortio, pinned, built the same way.
if ! "$GO" version -m "$TOOLS/fortio" 2>/dev/null | grep -q "fortio.org/fortio[[:space:]]*$FORTIO_VERSION"; then
  say "building fortio $FORTIO_VERSION into $TOOLS"
  GOBIN=$TOOLS "$GO" install "fortio.org/fortio@$FORTIO_VERSION"
fi

say "building headroom, bench/target and bench/compare"
"$GO" build -o bin/headroom ./cmd/headroom
"$GO" build -o bin/bench-target ./bench/target
"$GO" build -o bin/bench-compare ./bench/compare

# headroom takes part once its `run` command exists. The help is read whole
# first: under pipefail, grep -q quitting at the first match could make the
# writer die of SIGPIPE and the test fail although the command is there.
help_text=$(bin/headroom help 2>&1 || true)
if [[ ",$BENCH_TOOLS," == *,headroom,* ]] && ! grep -Eq '^[[:space:]]+run[[:space:]]' <<<"$help_text"; then
  say "WARNING: this headroom has no working 'run' command; comparing without it"
  BENCH_TOOLS=$(echo ",$BENCH_TOOLS," | sed 's/,headroom,/,/; s/^,//; s/,$//')
fi

# Generator on CPU 0, target on CPU 1; with one CPU nothing is pinned.
pin=()
if [ "$(nproc)" -lt 2 ]; then
  say "WARNING: one CPU only: tools and target share it, unpinned"
  pin=(-gen-cpus= -target-cpus=)
fi

pid=
stop() { if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi; }
trap stop EXIT
bin/bench-compare -seconds "$BENCH_SECONDS" -conns "$BENCH_CONNS" -repeat "$BENCH_REPEAT" \
  -tools "$BENCH_TOOLS" -protos "$BENCH_PROTOS" -h2-conns "$BENCH_H2_CONNS" -port "$BENCH_PORT" "${pin[@]}" \
  -wrk "$(command -v wrk)" -h2load "$(command -v h2load)" -fortio "$TOOLS/fortio" -vegeta "$TOOLS/vegeta" \
  -headroom bin/headroom -target bin/bench-target &
pid=$!
status=0
wait "$pid" || status=$?
pid=
if [ "$status" != 0 ]; then
  say "comparison failed (exit $status)"
  exit "$status"
fi

if [ "$BENCH_GO" != 0 ]; then
  say "Go benchmarks (-benchtime=$BENCH_GOTIME)"
  "$GO" test -run='^$' -bench=. -benchmem -benchtime="$BENCH_GOTIME" -timeout 20m ./...
fi
