#!/usr/bin/env bash
# Large-table reads on ONE process (bench/README.md, "Large tables, sixth session"): preload
# ITEMS items, then interleave rounds of Query and GetItem over the first 10,000 keys (hot: the
# same work as a 10k-item table, in cache) and over all ITEMS keys (cold), so that both sides of
# each comparison see the same process and, within seconds, the same machine phase. Besides
# req/s and latency it prints the CPU time per request of Aloft and of the client (`run_wrk` in
# dynamodb_common.sh: less phase-bound than req/s on a shared machine).
#
#   ITEMS=10000000 ROUNDS=3 DURATION=5s bench/dynamodb_large.sh target/release/aloft [aloft args]
#
# The 10M preload takes ~3 minutes and ~4 GiB: never run two at once.
set -euo pipefail
BIN="$1"; shift
PORT="${PORT:-45680}"
DURATION="${DURATION:-5s}"
ITEMS="${ITEMS:-1000000}"
ROUNDS="${ROUNDS:-3}"
HOT=10000
tmp=$(mktemp -d)
pid=
trap 'kill $pid 2>/dev/null || true; rm -rf "$tmp"' EXIT
url="http://127.0.0.1:$PORT"
here="$(dirname "$0")"

. "$here/dynamodb_common.sh"
"$BIN" --port "$PORT" --log-level error "$@" >/dev/null &
pid=$!
until curl -sf "$url/_aloft/health" >/dev/null; do kill -0 $pid; sleep 0.01; done
call CreateTable '{"TableName":"bench","BillingMode":"PAY_PER_REQUEST",
  "AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],
  "KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}]}'
q='{"TableName":"bench","KeyConditionExpression":"pk = :p","ExpressionAttributeValues":{":p":{"S":"k'
lua "$tmp/qhot.lua" Query rand $HOT "$q" '"}}}'
lua "$tmp/qall.lua" Query rand "$ITEMS" "$q" '"}}}'
lua "$tmp/ghot.lua" GetItem rand $HOT '{"TableName":"bench","Key":{"pk":{"S":"k' '"}}}'
lua "$tmp/gall.lua" GetItem rand "$ITEMS" '{"TableName":"bench","Key":{"pk":{"S":"k' '"}}}'
rss0=$(awk '/^VmRSS/ {print $2}' /proc/$pid/status)
t0=$(date +%s.%N)
preload bench 0 "$ITEMS"
t1=$(date +%s.%N)
rss1=$(awk '/^VmRSS/ {print $2}' /proc/$pid/status)
huge=$(awk '/^AnonHugePages/ {print $2}' /proc/$pid/smaps_rollup)
printf 'preload %d items: %.0f items/s, %.0f bytes/item (RSS %d MiB, of which %d MiB in huge pages)\n' \
  "$ITEMS" "$(echo "$ITEMS / ($t1 - $t0)" | bc -l)" \
  "$(echo "($rss1 - $rss0) * 1024 / $ITEMS" | bc -l)" "$((rss1 / 1024))" "$((huge / 1024))"
for r in $(seq "$ROUNDS"); do
  run_wrk "Query, hot $HOT" "$tmp/qhot.lua"
  run_wrk "Query, all $ITEMS" "$tmp/qall.lua"
  run_wrk "GetItem, hot $HOT" "$tmp/ghot.lua"
  run_wrk "GetItem, all $ITEMS" "$tmp/gall.lua"
done
