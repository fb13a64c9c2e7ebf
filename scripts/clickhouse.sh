#!/usr/bin/env bash
# Local ClickHouse server for `make run` and the integration tests.
#   scripts/clickhouse.sh up|install|down|status
# up:      installs Debian's clickhouse-server when no ClickHouse binary is found
#          (an old 18.16 release on these machines), renders the project-local
#          config from scripts/clickhouse/ into $STACK_DIR/clickhouse and starts
#          the server in the background, on 127.0.0.1 only; returns once
#          /ping answers. Idempotent.
# install: only the package install (no server start).
# down:    stops the server by its recorded PID.
# status:  exit 0 when the server answers /ping, non-zero otherwise.
# check-current: runs the migrations on a current ClickHouse engine (chDB from
#          PyPI, in a venv under $STACK_DIR) to check they are valid beyond 18.16.
# The package's own /etc/clickhouse-server config and its system service are
# never used.
source "$(dirname "$0")/lib.sh"

CH_DIR="$STACK_DIR/clickhouse"
CH_HTTP_PORT="${CLICKHOUSE_HTTP_PORT:-8123}"
CH_TCP_PORT="${CLICKHOUSE_TCP_PORT:-9000}"
CH_PING="http://127.0.0.1:$CH_HTTP_PORT/ping"

# server_cmd prints the command that runs the server: the split 18.16 binary
# (clickhouse-server) or a current release's single `clickhouse` binary.
server_cmd() {
  if command -v clickhouse-server >/dev/null 2>&1; then
    command -v clickhouse-server
  elif [[ -x /usr/sbin/clickhouse-server ]]; then
    echo /usr/sbin/clickhouse-server
  elif command -v clickhouse >/dev/null 2>&1; then
    echo "$(command -v clickhouse) server"
  else
    return 1
  fi
}

install() {
  if server_cmd >/dev/null; then return 0; fi
  log "installing Debian's clickhouse-server (and client)"
  local sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  $sudo apt-get update -qq
  # policy-rc.d / no systemd: the package's service is never started, and we
  # would not use it anyway.
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends \
    clickhouse-server clickhouse-client >>"$STACK_DIR/log/clickhouse-apt.log" 2>&1
  server_cmd >/dev/null || { log "clickhouse-server still missing after apt-get"; return 1; }
}

render() {
  mkdir -p "$CH_DIR"/{data,tmp,user_files,format_schemas,logs}
  local f
  for f in config.xml users.xml; do
    sed -e "s|@CH_DIR@|$CH_DIR|g" \
        -e "s|@CH_HTTP_PORT@|$CH_HTTP_PORT|g" \
        -e "s|@CH_TCP_PORT@|$CH_TCP_PORT|g" \
        "$ROOT/scripts/clickhouse/$f" >"$CH_DIR/$f"
  done
}

ping_ok() { [[ "$(curl -fsS --max-time 2 "$CH_PING" 2>/dev/null)" == "Ok." ]]; }

up() {
  install
  if pid_of clickhouse >/dev/null; then
    wait_for "ClickHouse ($CH_PING)" 60 ping_ok
    return
  fi
  if ping_ok; then
    log "something else already answers $CH_PING; not starting a second server"
    return 1
  fi
  render
  local -a cmd
  read -r -a cmd <<<"$(server_cmd)"
  cmd+=("--config-file=$CH_DIR/config.xml")
  if [[ $(id -u) -eq 0 ]] && id clickhouse >/dev/null 2>&1; then
    # 18.16 does run as root (checked), but current releases refuse when the
    # effective user differs from the data folder's owner, and a network
    # server has no business running as root: hand the project-local folder
    # to the package's system user and drop privileges.
    # setpriv execs (no fork), so the recorded PID is the server's own.
    chown -R clickhouse:clickhouse "$CH_DIR"
    cmd=(setpriv --reuid=clickhouse --regid=clickhouse --init-groups -- "${cmd[@]}")
  fi
  start_bg clickhouse "${cmd[@]}"
  if ! wait_for "ClickHouse ($CH_PING)" 90 ping_ok; then
    log "ClickHouse did not come up; last log lines:"
    tail -n 20 "$STACK_DIR/log/clickhouse.log" "$CH_DIR/logs/clickhouse-server.err.log" >&2 2>/dev/null || true
    return 1
  fi
}

status() {
  if ping_ok; then
    local pid; pid=$(pid_of clickhouse) || pid="not ours"
    log "clickhouse up ($CH_PING, native 127.0.0.1:$CH_TCP_PORT, pid $pid)"
    return 0
  fi
  log "clickhouse down ($CH_PING does not answer)"
  return 1
}

CHDB_VERSION=4.4.0 # ClickHouse 26.9

check_current() {
  local venv="$STACK_DIR/chdb-venv"
  if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c "import chdb" 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q "chdb==$CHDB_VERSION"
  fi
  "$venv/bin/python" "$ROOT/scripts/clickhouse/check_current.py"
}

case "${1:-status}" in
  up) up ;;
  install) install ;;
  down) stop_bg clickhouse ;;
  status) status ;;
  check-current) check_current ;;
  *) echo "usage: $0 up|install|down|status|check-current" >&2; exit 2 ;;
esac
