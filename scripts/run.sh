#!/usr/bin/env bash
# `make run`: the whole pipeline on the local stack (already up), with a sample
# capture going through it.
#   1. ClickHouse migrations
#   2. processor, results sink, query API and ingest API in the background
#      (dev-mode auth: tokens signed by the local key in .stack/)
#   3. one capture from $FACES_DIR posted to ingest: its scan printed
#   4. the same scan read back from the query API, and a ready curl command
# The services keep running; `make stack-down` stops them with the stack.
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

BIN="$ROOT/bin"
FACES_DIR="${FACES_DIR:-$ROOT/../shared/faces}"
SAMPLE="${SAMPLE:-$FACES_DIR/real/r04_apk_glasses.jpeg}"
export AUTH_DEV_MODE=true
export AUTH_DEV_KEY_FILE="$STACK_DIR/dev-jwt-key.pem"
COMPANY=00000000-0000-4000-8000-000000000001

"$BIN/query" migrate

start_bg processor "$BIN/processor" run
start_bg sink "$BIN/query" sink
start_bg query "$BIN/query" serve
start_bg ingest "$BIN/ingest" serve

ready() { curl -fsS "http://127.0.0.1:$1/readyz" >/dev/null; }
wait_for "processor (metrics :9181)" 120 ready 9181
wait_for "sink (metrics :9183)" 60 ready 9183
wait_for "query API (metrics :9182)" 60 ready 9182
wait_for "ingest API (metrics :9180)" 60 ready 9180

TOKEN=$("$BIN/query" token --company "$COMPANY" --scopes "read write")
log "posting $(basename "$SAMPLE") to the ingest API"
RESPONSE=$(curl -sS -H "Authorization: Bearer $TOKEN" -H "Prefer: wait=30" \
  -F channel=WEB -F reference=make-run-sample -F "file=@$SAMPLE" \
  http://127.0.0.1:8080/face-liveness-sdk/v1/check_liveness)
echo "$RESPONSE" | python3 -c '
import json, sys
s = json.load(sys.stdin)
for f in s.get("faces") or []:
    f["landmarks68"] = "[%d values]" % len(f["landmarks68"])
print(json.dumps(s, indent=2))'
ID=$(echo "$RESPONSE" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')

get() { curl -fsS -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:8081/v1/face-liveness/$ID" >/dev/null; }
wait_for "the scan in ClickHouse via the query API" 30 get
cat <<MSG

The pipeline is running (logs in $STACK_DIR/log/). Read the scan back:

  export TOKEN=$TOKEN
  curl -H "Authorization: Bearer \$TOKEN" http://127.0.0.1:8081/v1/face-liveness/$ID

List this company's scans:   curl -H "Authorization: Bearer \$TOKEN" 'http://127.0.0.1:8081/v1/face-liveness?size=5'
A new token:                 make token COMPANY=$COMPANY SCOPES="read write"
Stream a folder:             bin/ingest send --concurrency 4 $FACES_DIR/real
Stop everything:             make stack-down
MSG
