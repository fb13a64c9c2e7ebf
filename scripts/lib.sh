# Shared helpers for the local-stack scripts. Source it; do not run it.
# Everything the stack downloads or writes goes under $STACK_DIR (git-ignored).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STACK_DIR="${STACK_DIR:-$ROOT/.stack}"
mkdir -p "$STACK_DIR/run" "$STACK_DIR/log"

log() { printf '[stack] %s\n' "$*" >&2; }

# pid_of NAME: prints the PID recorded for NAME if that process is alive.
pid_of() {
  local f="$STACK_DIR/run/$1.pid"
  [[ -f "$f" ]] || return 1
  local pid; pid=$(cat "$f")
  kill -0 "$pid" 2>/dev/null || { rm -f "$f"; return 1; }
  echo "$pid"
}

# start_bg NAME CMD...: starts CMD detached, logs to $STACK_DIR/log/NAME.log,
# records its PID. Does nothing when NAME already runs.
start_bg() {
  local name=$1; shift
  if pid_of "$name" >/dev/null; then log "$name already running"; return 0; fi
  # The daemon keeps none of the caller's other descriptors: a lock taken
  # around `make` (flock) would otherwise be held by the broker until it stops.
  (
    for fd in /proc/$BASHPID/fd/*; do
      fd=${fd##*/}
      if ((fd > 2)); then eval "exec $fd>&-"; fi
    done
    exec setsid nohup "$@" >>"$STACK_DIR/log/$name.log" 2>&1 </dev/null
  ) &
  echo $! >"$STACK_DIR/run/$name.pid"
  log "$name started (pid $!, log $STACK_DIR/log/$name.log)"
}

# stop_bg NAME: SIGTERM to the recorded PID (and its process group), waits up
# to 30 s, then SIGKILL. Stops by PID, never by process name.
stop_bg() {
  local name=$1 pid
  pid=$(pid_of "$name") || { log "$name not running"; return 0; }
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "$name did not stop in 30 s; killing"
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$STACK_DIR/run/$name.pid"
  log "$name stopped"
}

# wait_for DESCRIPTION SECONDS CMD...: retries CMD every half second, with a
# dot of progress, until it succeeds or SECONDS pass.
wait_for() {
  local what=$1 secs=$2; shift 2
  local deadline=$((SECONDS + secs))
  printf '[stack] waiting for %s ' "$what" >&2
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then printf ' timed out\n' >&2; return 1; fi
    printf '.' >&2; sleep 0.5
  done
  printf ' ok\n' >&2
}

# sha256_check FILE SUM: fails loudly when FILE's sha256 is not SUM.
sha256_check() {
  local got; got=$(sha256sum "$1" | cut -d' ' -f1)
  [[ "$got" == "$2" ]] || { log "sha256 mismatch for $1: got $got, want $2"; return 1; }
}
