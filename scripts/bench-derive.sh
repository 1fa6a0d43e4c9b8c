#!/usr/bin/env bash
# Derive benchmark: `headroom plan from-logs` reads a generated combined
# access log of BENCH_DERIVE_LINES lines (default 5,000,000) in one pass and
# prints lines per second and the peak resident memory. The log is written
# to a temp file first, so the figure is the reader's, not the generator's.
#
# Settings (environment):
#   BENCH_DERIVE_LINES   lines in the generated log   (default 5000000)
#   GO                   the go command                (default go)
# Run it under the load lock, as `make bench` does:
#   flock /tmp/headroom-load.lock scripts/bench-derive.sh
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
if ! command -v "$GO" >/dev/null && [ -x /usr/local/go/bin/go ]; then
  GO=/usr/local/go/bin/go
fi
LINES=${BENCH_DERIVE_LINES:-5000000}
case $LINES in ''|*[!0-9]*) echo "bench-derive: BENCH_DERIVE_LINES=$LINES is not a number" >&2; exit 2 ;; esac

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$GO" build -o "$work/headroom" ./cmd/headroom
"$GO" run ./derive/internal/logsynth/gen -lines "$LINES" >"$work/access.log"
size=$(du -m "$work/access.log" | cut -f1)

start=$(date +%s.%N)
"$work/headroom" plan from-logs --format combined --out "$work/plan.yaml" "$work/access.log" 2>"$work/progress"
end=$(date +%s.%N)
# the last progress line: "...: N lines, X MiB, R lines/s, peak RSS M MiB"
last=$(tr '\r' '\n' <"$work/progress" | grep 'lines/s' | tail -1)
rss=$(sed -n 's/.*peak RSS \([0-9]*\) MiB.*/\1/p' <<<"$last")
lines=$(sed -n 's/.*: \([0-9]*\) lines,.*/\1/p' <<<"$last")
if [ "$lines" != "$LINES" ]; then
  echo "bench-derive: read $lines lines, want $LINES:" >&2
  cat "$work/progress" >&2
  exit 1
fi
awk -v n="$LINES" -v s="$start" -v e="$end" -v rss="$rss" -v mb="$size" 'BEGIN {
  t = e - s
  printf "derive: plan from-logs read %d lines (%d MiB) in one pass in %.1f s: %.0f lines/s, peak RSS %s MiB\n", n, mb, t, n / t, rss
}'
