#!/usr/bin/env bash
# DynamoDB figures (wrk -t2 -c16, unsigned json 1.0 requests), in memory and with --data-dir:
# PutItem with a new key per request; GetItem of random keys among 1,000,000 preloaded items;
# Query latency with 10 thousand and with 1 million items in the table; memory per item.
# ITEMS=10000000 MODES=memory for the 10-million point (the preload runs at ~55k items/s).
set -euo pipefail
BIN="$1"
PORT="${PORT:-45670}"
DURATION="${DURATION:-10s}"
ITEMS="${ITEMS:-1000000}"
tmp=$(mktemp -d)
pid=
trap 'kill $pid 2>/dev/null || true; rm -rf "$tmp"' EXIT
url="http://127.0.0.1:$PORT"

. "$(dirname "$0")/dynamodb_common.sh"
rss_kib() { awk '/^VmRSS/ {print $2}' /proc/$pid/status; }

bench() { # bench LABEL [aloft args...]
  local label="$1"; shift
  "$BIN" --port $PORT --log-level error "$@" >/dev/null &
  pid=$!
  # Fail rather than measure another process when the port is taken (PORT=... to move).
  until curl -sf "$url/_aloft/health" >/dev/null; do kill -0 $pid; sleep 0.01; done
  echo "-- $label"
  for t in bench grow; do
    call CreateTable '{"TableName":"'$t'","BillingMode":"PAY_PER_REQUEST",
      "AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],
      "KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}]}'
  done
  lua "$tmp/get.lua" GetItem rand "$ITEMS" '{"TableName":"bench","Key":{"pk":{"S":"k' '"}}}'
  lua "$tmp/query10k.lua" Query rand 10000 \
    '{"TableName":"bench","KeyConditionExpression":"pk = :p","ExpressionAttributeValues":{":p":{"S":"k' '"}}}'
  lua "$tmp/query.lua" Query rand "$ITEMS" \
    '{"TableName":"bench","KeyConditionExpression":"pk = :p","ExpressionAttributeValues":{":p":{"S":"k' '"}}}'
  lua "$tmp/put.lua" PutItem seq 0 \
    '{"TableName":"grow","Item":{"name":{"S":"a typical name"},"count":{"N":"1"},"flag":{"BOOL":true},"pk":{"S":"n' '"}}}'

  preload bench 0 10000
  run_wrk "Query, 10k items in the table" "$tmp/query10k.lua"
  local before; before=$(rss_kib)
  local t0; t0=$(date +%s.%N)
  preload bench 10000 "$ITEMS"
  local t1; t1=$(date +%s.%N)
  local after; after=$(rss_kib)
  printf 'preload %d items (BatchWriteItem, 16 connections): %.0f items/s, %.0f bytes/item (RSS %d MiB)\n' \
    "$((ITEMS - 10000))" "$(echo "($ITEMS - 10000) / ($t1 - $t0)" | bc -l)" \
    "$(echo "($after - $before) * 1024 / ($ITEMS - 10000)" | bc -l)" "$((after / 1024))"
  run_wrk "Query, $ITEMS items in the table" "$tmp/query.lua"
  run_wrk "GetItem, random of $ITEMS" "$tmp/get.lua"
  run_wrk "PutItem, new key each" "$tmp/put.lua"
  kill $pid; wait $pid 2>/dev/null || true
}

# MODES="memory" skips the --data-dir half (e.g. for the 10-million point, whose durable preload is slow).
MODES="${MODES:-memory data-dir}"
case " $MODES " in *" memory "*) bench "in memory" ;; esac
case " $MODES " in *" data-dir "*)
  bench "--data-dir" --data-dir "$tmp/data"
  du -sh "$tmp/data" | awk '{print "data dir after the run: " $1}' ;;
esac
