#!/usr/bin/env bash
# Large-table reads on ONE process (bench/README.md, "Large tables, sixth session"): preload
# ITEMS items, then interleave rounds of Query and GetItem over the first 10,000 keys (hot: the
# same work as a 10k-item table, in cache) and over all ITEMS keys (cold), so that both sides of
# each comparison see the same process and, within seconds, the same machine phase. Besides
# req/s and latency it prints Aloft's CPU time per request (every thread's schedstat: less
# phase-bound than req/s on a shared machine, as the client's share of the cores drops out).
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
cpu_ns() { # CPU time of every Aloft thread so far
  cat /proc/$pid/task/*/schedstat | awk '{s += $1} END {printf "%.0f", s}'
}
lua() { # lua FILE OP RANGE BODY_PREFIX BODY_SUFFIX: random keys k00000000 .. RANGE-1
  cat > "$1" <<LUA
local head, tail
setup = function(thread) end
init = function()
  math.randomseed(os.time() + math.random(1000))
  local r = wrk.format("POST", "/", {["X-Amz-Target"] = "DynamoDB_20120810.$2",
    ["Content-Type"] = "application/x-amz-json-1.0"}, '$4' .. "########" .. '$5')
  local at = r:find("########", 1, true)
  head, tail = r:sub(1, at - 1), r:sub(at + 8)
end
request = function()
  return head .. string.format("%08d", math.random(0, $3 - 1)) .. tail
end
LUA
}
run_wrk() { # run_wrk LABEL SCRIPT
  local c0; c0=$(cpu_ns)
  out=$(wrk -t2 -c16 -d"$DURATION" --latency -s "$2" "$url/")
  local c1; c1=$(cpu_ns)
  if echo "$out" | grep -q "Non-2xx"; then echo "$out" | grep "Non-2xx"; fi
  local n; n=$(echo "$out" | awk '/requests in/ {print $1}')
  rps=$(echo "$out" | awk '/Requests\/sec/ {printf "%.0f", $2}')
  p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
  p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  printf '%-26s %7s req/s  p50 %-8s p99 %-8s %6.1f us CPU/request  (load %s)\n' "$1" "$rps" "$p50" "$p99" \
    "$(echo "($c1 - $c0) / 1000 / $n" | bc -l)" "$(cut -d' ' -f1 /proc/loadavg)"
}

"$BIN" --port "$PORT" --log-level error "$@" >/dev/null &
pid=$!
until curl -sf "$url/_aloft/health" >/dev/null; do kill -0 $pid; sleep 0.01; done
call CreateTable '{"TableName":"bench","BillingMode":"PAY_PER_REQUEST",
  "AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],
  "KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}]}'
q='{"TableName":"bench","KeyConditionExpression":"pk = :p","ExpressionAttributeValues":{":p":{"S":"k'
lua "$tmp/qhot.lua" Query $HOT "$q" '"}}}'
lua "$tmp/qall.lua" Query "$ITEMS" "$q" '"}}}'
lua "$tmp/ghot.lua" GetItem $HOT '{"TableName":"bench","Key":{"pk":{"S":"k' '"}}}'
lua "$tmp/gall.lua" GetItem "$ITEMS" '{"TableName":"bench","Key":{"pk":{"S":"k' '"}}}'
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
