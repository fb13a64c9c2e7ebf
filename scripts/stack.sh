#!/usr/bin/env bash
# Local real stack: Kafka (KRaft), ClickHouse, ONNX Runtime.
#   scripts/stack.sh up|down|status
# Idempotent. A component whose address is given in the environment
# (KAFKA_BROKERS, CLICKHOUSE_ADDR) is taken as already running elsewhere and
# is neither started nor stopped.
source "$(dirname "$0")/lib.sh"

cmd=${1:-status}
case "$cmd" in
  up)
    "$ROOT/scripts/deps.sh"
    "$ROOT/scripts/onnxruntime.sh" install
    # The jars are installed even for an external cluster: the TLS/SASL test
    # starts a broker of its own from them.
    if [[ -n "${KAFKA_BROKERS:-}" ]]; then log "using Kafka at $KAFKA_BROKERS"; "$ROOT/scripts/kafka.sh" install; else "$ROOT/scripts/kafka.sh" up; fi
    if [[ -n "${CLICKHOUSE_ADDR:-}" ]]; then log "using ClickHouse at $CLICKHOUSE_ADDR"; else "$ROOT/scripts/clickhouse.sh" up; fi
    ;;
  down)
    for svc in ingest query sink processor; do stop_bg "$svc"; done
    [[ -n "${CLICKHOUSE_ADDR:-}" ]] || "$ROOT/scripts/clickhouse.sh" down
    [[ -n "${KAFKA_BROKERS:-}" ]] || "$ROOT/scripts/kafka.sh" down
    ;;
  status)
    rc=0
    "$ROOT/scripts/onnxruntime.sh" status || rc=1
    [[ -n "${KAFKA_BROKERS:-}" ]] || "$ROOT/scripts/kafka.sh" status || rc=1
    [[ -n "${CLICKHOUSE_ADDR:-}" ]] || "$ROOT/scripts/clickhouse.sh" status || rc=1
    exit $rc
    ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
