#!/usr/bin/env bash
# Aloft's GetItem against servers that do nothing (bench/README.md, "Against servers that do
# nothing"): the same wrk load (-t2 -c16, the GetItem script of bench/dynamodb.sh) on Aloft with
# 20k items, on a hyper server and a hand-written HTTP/1.1 loop that answer a fixed GetItem-shaped
# body (crates/aloft-core/examples/floor.rs), and on nginx's `return 200` if nginx is installed.
# Interleaved rounds, with the hypervisor's steal time per run: on this shared machine only
# figures from the same round compare.
#   bench/floor.sh ALOFT_BIN FLOOR_BIN [ROUNDS]
set -euo pipefail
BIN="$1"; FLOOR="$2"; ROUNDS="${3:-3}"
DURATION="${DURATION:-5s}"
PORT="${PORT:-45750}"
tmp=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; [ -f "$tmp/nginx.pid" ] && kill "$(cat "$tmp/nginx.pid")" 2>/dev/null; rm -rf "$tmp"' EXIT
. "$(dirname "$0")/dynamodb_common.sh"
steal() { awk '/^cpu / {print $9}' /proc/stat; }

url="http://127.0.0.1:$PORT"
"$BIN" --port $PORT --log-level error >/dev/null &
pid=$!; aloft=$pid; pids+=($pid)
until curl -sf "$url/_aloft/health" >/dev/null; do kill -0 $pid; sleep 0.01; done
call CreateTable '{"TableName":"bench","BillingMode":"PAY_PER_REQUEST",
  "AttributeDefinitions":[{"AttributeName":"pk","AttributeType":"S"}],
  "KeySchema":[{"AttributeName":"pk","KeyType":"HASH"}]}'
preload bench 0 20000
lua "$tmp/get.lua" GetItem rand 20000 '{"TableName":"bench","Key":{"pk":{"S":"k' '"}}}'

"$FLOOR" hyper $((PORT + 1)) & hyper=$!; pids+=($hyper)
"$FLOOR" raw $((PORT + 2)) & raw=$!; pids+=($raw)
nginx_master=
if command -v nginx >/dev/null; then
  mkdir -p "$tmp/nginx"
  cat > "$tmp/nginx.conf" <<CONF
worker_processes 2;
pid $tmp/nginx.pid;
error_log $tmp/nginx/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 100000000;
  client_body_temp_path $tmp/nginx/body;
  server {
    listen 127.0.0.1:$((PORT + 3));
    location / { default_type application/x-amz-json-1.0;
      return 200 '{"Item":{"pk":{"S":"k00001234"},"a":{"S":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},"n":{"N":"42"}}}'; }
  }
}
CONF
  nginx -c "$tmp/nginx.conf"
  until [ -s "$tmp/nginx.pid" ]; do sleep 0.05; done
  nginx_master=$(cat "$tmp/nginx.pid")
fi
sleep 0.3

nginx_cpu() { for p in $(pgrep -P "$nginx_master"); do awk '{print $14 + $15}' /proc/$p/stat; done | paste -sd+ | bc; }
for r in $(seq "$ROUNDS"); do
  echo "-- round $r"
  for s in aloft hyper raw; do
    case $s in
      aloft) server=Aloft; pid=$aloft; url="http://127.0.0.1:$PORT"; label="Aloft GetItem, 20k items" ;;
      hyper) server=hyper; pid=$hyper; url="http://127.0.0.1:$((PORT + 1))"; label="hyper, doing nothing" ;;
      raw) server=loop; pid=$raw; url="http://127.0.0.1:$((PORT + 2))"; label="hand-written loop, doing nothing" ;;
    esac
    s0=$(steal); run_wrk "$label" "$tmp/get.lua"; echo "   steal: $(( $(steal) - s0 )) ticks"
  done
  if [ -n "$nginx_master" ]; then
    s0=$(steal); c0=$(nginx_cpu)
    out=$( { TIMEFORMAT='wrk-cpu %U %S'; time wrk -t2 -c16 -d"$DURATION" --latency -s "$tmp/get.lua" "http://127.0.0.1:$((PORT + 3))/"; } 2>&1 )
    c1=$(nginx_cpu)
    n=$(echo "$out" | awk '/requests in/ {print $1}')
    printf '%-34s %7s req/s  p50 %-8s p99 %-8s us/request: nginx %s, wrk %s (user+sys)\n' "nginx, return 200" \
      "$(echo "$out" | awk '/Requests\/sec/ {printf "%.0f", $2}')" \
      "$(echo "$out" | awk '$1 == "50%" {print $2}')" "$(echo "$out" | awk '$1 == "99%" {print $2}')" \
      "$(echo "$c0 $c1 $n" | awk '{printf "%.1f", ($2 - $1) * 1e4 / $3}')" \
      "$(echo "$out" | awk -v n="$n" '/^wrk-cpu/ {printf "%.1f", ($2 + $3) * 1e6 / n}')"
    echo "   steal: $(( $(steal) - s0 )) ticks"
  fi
done
