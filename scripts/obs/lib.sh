# shellcheck shell=bash
# Shared settings and helpers for the observability scripts (obs-deps,
# obs-up, obs-down, build-jaeger). Sourced, never run. One place for the
# versions, paths, default ports and the stop-by-PID logic.
# shellcheck disable=SC2034 # the OBS_* variables are read by the scripts that source this

OBS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export PATH="/usr/local/go/bin:$PATH"

# The Jaeger version is the one tools/jaeger/go.mod pins; nothing else
# records it, so a version bump there rebuilds the cached binary.
OBS_JAEGER_MODULE_DIR="$OBS_ROOT/tools/jaeger"
OBS_JAEGER_VERSION="$(awk '$1 == "github.com/jaegertracing/jaeger" { print $2; exit }' "$OBS_JAEGER_MODULE_DIR/go.mod")"
OBS_JAEGER_BIN="$OBS_ROOT/.cache/jaeger/$OBS_JAEGER_VERSION/jaeger"
OBS_PROMETHEUS_BIN="${OBS_PROMETHEUS_BIN:-/usr/bin/prometheus}"

obs_log() { printf 'obs: %s\n' "$*" >&2; }
obs_die() { printf 'obs: error: %s\n' "$*" >&2; exit 1; }

# obs_port NAME DEFAULT: the value of env var NAME (or DEFAULT), checked to be
# a TCP port number; the error names the variable.
obs_port() {
  local name=$1 value=${!1:-$2}
  if ! [[ "$value" =~ ^[0-9]+$ ]] || [ "$value" -lt 1 ] || [ "$value" -gt 65535 ]; then
    obs_die "$name=\"$value\" is not a TCP port (1-65535)"
  fi
  printf '%s' "$value"
}

# obs_targets NAME: env var NAME holds "host:port,host:port"; prints them as
# the items of a YAML flow sequence ('a', 'b'), empty when unset.
obs_targets() {
  local name=$1 list=${!1:-} out="" t
  local IFS=','
  for t in $list; do
    t="${t#"${t%%[![:space:]]*}"}"
    t="${t%"${t##*[![:space:]]}"}"
    [ -z "$t" ] && continue
    # Loopback only, as everything the stack touches.
    if ! [[ "$t" =~ ^(127\.[0-9]+\.[0-9]+\.[0-9]+|localhost|\[::1\]):([0-9]+)$ ]] ||
      [ "${BASH_REMATCH[2]}" -lt 1 ] || [ "${BASH_REMATCH[2]}" -gt 65535 ]; then
      obs_die "$name: \"$t\" is not a loopback host:port (127.0.0.1:PORT, localhost:PORT or [::1]:PORT)"
    fi
    out="${out:+$out, }'$t'"
  done
  printf '%s' "$out"
}

# obs_alive PID PATTERN: true when PID runs and its command line contains
# PATTERN (our config file), so a recycled PID is never signalled.
obs_alive() {
  local pid=$1 pattern=$2
  [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$pattern"
}

# obs_stop PIDFILE PATTERN GRACE KILL: SIGTERM the process in PIDFILE, wait up
# to GRACE seconds, then SIGKILL when KILL=kill. Removes the PID file.
obs_stop() {
  local pidfile=$1 pattern=$2 grace=$3 kill=$4 pid waited=0 start_ms
  [ -f "$pidfile" ] || return 0
  pid="$(cat "$pidfile")"
  if [[ "$pid" =~ ^[0-9]+$ ]] && obs_alive "$pid" "$pattern"; then
    start_ms=$(date +%s%3N)
    kill -TERM "$pid" 2>/dev/null || true
    while obs_alive "$pid" "$pattern" && [ "$waited" -lt $((grace * 10)) ]; do
      sleep 0.1
      waited=$((waited + 1))
    done
    if obs_alive "$pid" "$pattern"; then
      if [ "$kill" = "kill" ]; then
        obs_log "PID $pid did not stop on SIGTERM within ${grace}s; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        waited=0
        while obs_alive "$pid" "$pattern" && [ "$waited" -lt 20 ]; do
          sleep 0.1
          waited=$((waited + 1))
        done
      else
        obs_log "PID $pid did not stop on SIGTERM within ${grace}s"
        return 1
      fi
    fi
    obs_log "stopped $(basename "$pidfile" .pid) (PID $pid) in $(($(date +%s%3N) - start_ms)) ms"
  fi
  rm -f "$pidfile"
}
