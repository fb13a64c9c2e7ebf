#!/usr/bin/env bash
# Local Apache Kafka broker: single-node KRaft (broker + controller in one JVM)
# on 127.0.0.1, from jars resolved on Maven Central (scripts/kafka/pom.xml).
#   scripts/kafka.sh install   resolve the jars into $STACK_DIR/kafka/libs (cached)
#   scripts/kafka.sh up        install, format storage (first start only), start,
#                              wait for a real protocol answer, create the topics
#   scripts/kafka.sh down      stop the broker (by PID)
#   scripts/kafka.sh status    running and answering? exit 1 when not
# Idempotent: safe to run twice. Topic specs live in Go (internal/kafka.Topics).
source "$(dirname "$0")/lib.sh"

KAFKA_DIR="$STACK_DIR/kafka"
LIBS="$KAFKA_DIR/libs"
DATA="$KAFKA_DIR/data"
CONF="$KAFKA_DIR/server.properties"
POM="$ROOT/scripts/kafka/pom.xml"
TOOL="$STACK_DIR/bin/kafka-topics"
BROKER_PORT=9092
CONTROLLER_PORT=9093
# Capped heap: the machine is shared with ClickHouse and ONNX inference.
KAFKA_HEAP_OPTS=${KAFKA_HEAP_OPTS:--Xms512m -Xmx512m}

# install: copy the broker's runtime jars from Maven Central. The marker holds
# the pom's sha256, so editing the pom (a new Kafka pin) re-resolves.
install() {
  local want; want=$(sha256sum "$POM" | cut -d' ' -f1)
  if [[ -f "$LIBS/.pom.sha256" && "$(cat "$LIBS/.pom.sha256")" == "$want" ]]; then
    log "kafka jars cached in $LIBS ($(ls "$LIBS"/*.jar | wc -l) jars)"
    return 0
  fi
  command -v mvn >/dev/null || { log "mvn not found (apt-get install maven)"; return 1; }
  local version; version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$POM")
  rm -rf "$LIBS.tmp"; mkdir -p "$LIBS.tmp"
  mvn -q -B -f "$POM" dependency:copy-dependencies -DoutputDirectory="$LIBS.tmp" \
    >"$STACK_DIR/log/kafka-mvn.log" 2>&1 &
  local mvn_pid=$! start=$SECONDS
  # mvn -q prints nothing while it downloads; show that it is alive.
  while kill -0 "$mvn_pid" 2>/dev/null; do
    printf '\r[stack] resolving Kafka %s jars from Maven Central... %ds' "$version" $((SECONDS - start)) >&2
    sleep 1
  done
  printf '\n' >&2
  if ! wait "$mvn_pid"; then
    log "mvn failed; see $STACK_DIR/log/kafka-mvn.log"; tail -20 "$STACK_DIR/log/kafka-mvn.log" >&2; return 1
  fi
  [[ -f "$LIBS.tmp/kafka_2.13-$version.jar" ]] || { log "kafka_2.13-$version.jar missing after mvn"; return 1; }
  echo "$want" >"$LIBS.tmp/.pom.sha256"
  rm -rf "$LIBS"; mv "$LIBS.tmp" "$LIBS"
  log "kafka $version: $(ls "$LIBS"/*.jar | wc -l) jars, $(du -sh "$LIBS" | cut -f1) in $LIBS"
}

# java_cp CLASS ARGS...: runs a Kafka tool class from the resolved jars.
java_cp() {
  java -Xmx256m -Dlog4j.configuration="file:$ROOT/scripts/kafka/log4j.properties" \
    -cp "$LIBS/*" "$@"
}

render_config() {
  sed -e "s|@BROKER_PORT@|$BROKER_PORT|g" -e "s|@CONTROLLER_PORT@|$CONTROLLER_PORT|g" \
      -e "s|@DATA_DIR@|$DATA|g" "$ROOT/scripts/kafka/server.properties.tmpl" >"$CONF"
}

# format: KRaft storage is formatted once, with a cluster id kept next to it;
# formatting again would orphan the existing data.
format() {
  [[ -f "$DATA/meta.properties" ]] && return 0
  local id_file="$KAFKA_DIR/cluster.id"
  [[ -s "$id_file" ]] || java_cp kafka.tools.StorageTool random-uuid >"$id_file"
  log "formatting KRaft storage in $DATA (cluster $(cat "$id_file"))"
  # The tool prints the whole broker config; keep that in the log, show the verdict.
  java_cp kafka.tools.StorageTool format -t "$(cat "$id_file")" -c "$CONF" --ignore-formatted \
    >"$STACK_DIR/log/kafka-format.log" 2>&1 || { tail -20 "$STACK_DIR/log/kafka-format.log" >&2; return 1; }
  grep -h '^Formatting' "$STACK_DIR/log/kafka-format.log" | sed 's/^/[stack] /' >&2 || true
}

# tool: the Go helper that owns the topic specs and the readiness check,
# built once (go build caches) so the wait loop does not recompile.
build_tool() {
  mkdir -p "$STACK_DIR/bin"
  (cd "$ROOT" && go build -o "$TOOL" ./internal/kafka/cmd/kafka-topics)
}
tool() {
  # Always the local broker, whatever KAFKA_* the caller's shell holds.
  env -u KAFKA_TLS -u KAFKA_SASL_MECHANISM KAFKA_BROKERS="127.0.0.1:$BROKER_PORT" "$TOOL" "$@"
}
answers() { tool -timeout 3s ping; }

up() {
  command -v java >/dev/null || { log "java not found (Java 17 needed)"; return 1; }
  install
  build_tool
  if ! pid_of kafka >/dev/null && answers >/dev/null 2>&1; then
    log "something not started by this script already answers on 127.0.0.1:$BROKER_PORT; not starting another"
    return 1
  fi
  mkdir -p "$DATA"
  render_config
  format
  # shellcheck disable=SC2086 # KAFKA_HEAP_OPTS is a list of options
  start_bg kafka java $KAFKA_HEAP_OPTS \
    -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
    -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true \
    -Dlog4j.configuration="file:$ROOT/scripts/kafka/log4j.properties" \
    -Dkafka.logs.dir="$STACK_DIR/log" \
    -cp "$LIBS/*" kafka.Kafka "$CONF"
  if ! wait_for "kafka on 127.0.0.1:$BROKER_PORT" 120 answers; then
    log "kafka did not answer; last log lines:"; tail -30 "$STACK_DIR/log/kafka.log" >&2
    return 1
  fi
  tool ensure
}

status() {
  local pid
  if ! pid=$(pid_of kafka); then
    echo "kafka: not running"; return 1
  fi
  [[ -x "$TOOL" ]] || build_tool
  if answers >/dev/null 2>&1; then
    echo "kafka: running (pid $pid), answers on 127.0.0.1:$BROKER_PORT"
  else
    echo "kafka: running (pid $pid) but does not answer on 127.0.0.1:$BROKER_PORT"; return 1
  fi
}

case "${1:-status}" in
  install) install ;;
  up) up ;;
  down) stop_bg kafka ;;
  status) status ;;
  *) echo "usage: $0 install|up|down|status" >&2; exit 2 ;;
esac
