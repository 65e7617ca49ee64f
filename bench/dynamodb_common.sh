# Shared by bench/dynamodb.sh and bench/dynamodb_large.sh (sourced): calls to Aloft at $url and
# the wrk-driven preload. The sourcing script sets url, tmp (a scratch directory) and pid.

call() { # call OPERATION JSON
  curl -sf -H "X-Amz-Target: DynamoDB_20120810.$1" -H 'Content-Type: application/x-amz-json-1.0' \
    -d "$2" "$url/" >/dev/null
}
items_in() { # items_in TABLE: the table's item count (Aloft's stats endpoint, exact and live)
  curl -sf "$url/_aloft/dynamodb/stats" | python3 -c \
    'import json,sys; print(sum(t["items"] for t in json.load(sys.stdin)["tables"] if t["table"]==sys.argv[1]))' "$1"
}
preload() { # preload TABLE FROM TO: BatchWriteItem of 25 items over 16 connections (wrk + Lua)
  # wrk runs until its -d or a SIGINT, so it is stopped once the table holds TO items.
  wrk -t2 -c16 -d3600s -s "$(dirname "${BASH_SOURCE[0]}")/dynamodb_load.lua" "$url/" -- "$1" "$2" "$3" 2 \
    >"$tmp/load.out" &
  local w=$!
  while kill -0 $w 2>/dev/null && [ "$(items_in "$1")" -lt "$3" ]; do sleep 0.2; done
  kill -INT $w 2>/dev/null || true
  wait $w || true
  if grep -q "failed" "$tmp/load.out" || [ "$(items_in "$1")" -ne "$3" ]; then
    cat "$tmp/load.out"; echo "preload of $1 failed"; exit 1
  fi
}
