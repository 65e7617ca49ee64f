# Shared by bench/dynamodb.sh and bench/dynamodb_large.sh (sourced): calls to Aloft at $url, the
# wrk-driven preload, the wrk scripts and the measured runs. The sourcing script sets url, tmp (a scratch directory) and pid.

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

# wrk script: OPERATION and a body built from a key number per request. Keys are fixed-width
# (8 digits), so every request of a script has the same length: init() renders one with
# wrk.format and request() splices the digits into it, which takes half the client CPU of a
# wrk.format per request (the client shares the 2 cores with Aloft). The bytes sent are the same.
lua() { # lua FILE OP MODE(seq|rand) RANGE BODY_PREFIX BODY_SUFFIX
  cat > "$1" <<LUA
local n = 0
local id = 0
local head, tail
setup = function(thread) id = id + 1; thread:set("tid", id) end
init = function()
  math.randomseed(os.time() + tid)
  local body = '$5' .. (("$3" == "seq") and (tid .. "_") or "") .. "########" .. '$6'
  local r = wrk.format("POST", "/", {["X-Amz-Target"] = "DynamoDB_20120810.$2",
    ["Content-Type"] = "application/x-amz-json-1.0"}, body)
  local at = r:find("########", 1, true)
  head, tail = r:sub(1, at - 1), r:sub(at + 8)
end
request = function()
  n = n + 1
  local k
  if "$3" == "seq" then k = n else k = math.random(0, $4 - 1) end
  return head .. string.format("%08d", k) .. tail
end
LUA
}
run_wrk() { # run_wrk LABEL SCRIPT: req/s, latency, and where the 2 cores went per request
  # (user + system CPU of every Aloft thread from /proc, and of the client from bash's `time`):
  # the CPU split is steadier than req/s on a shared machine, and shows the client's share.
  local a0 a1 n w
  a0=$(awk '{print $14 + $15, $14}' /proc/$pid/stat)
  out=$( { TIMEFORMAT='wrk-cpu %U %S'; time wrk -t2 -c16 -d"$DURATION" --latency -s "$2" "$url/"; } 2>&1 )
  a1=$(awk '{print $14 + $15, $14}' /proc/$pid/stat)
  if echo "$out" | grep -q "Non-2xx"; then echo "$out" | grep "Non-2xx"; fi
  n=$(echo "$out" | awk '/requests in/ {print $1}')
  w=$(echo "$out" | awk '/^wrk-cpu/ {print $2, $3}')
  rps=$(echo "$out" | awk '/Requests\/sec/ {printf "%.0f", $2}')
  p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
  p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  # Clock ticks are 10 ms: over a 5-s run of ~150k requests that is 0.07 us per request.
  printf "%-34s %7s req/s  p50 %-8s p99 %-8s us/request: %s %s, wrk %s (user+sys)  load %s\n" \
    "$1" "$rps" "$p50" "$p99" "${server:-Aloft}" \
    "$(echo "$a0 $a1 $n" | awk '{u = ($4 - $2) * 1e4 / $5; t = ($3 - $1) * 1e4 / $5; printf "%.1f+%.1f", u, t - u}')" \
    "$(echo "$w $n" | awk '{printf "%.1f+%.1f", $1 * 1e6 / $3, $2 * 1e6 / $3}')" \
    "$(cut -d' ' -f1 /proc/loadavg)"
}
