#!/usr/bin/env bash
# Load from a separate process: starts `switchyard serve` (release build) on a
# fresh database, seeds 1,000 SKUs with deep stock and a hot SKU with 100
# units at one warehouse, runs wrk (64 connections, a new order per request,
# every 10th for the hot SKU), then checks: the hot SKU allocated exactly
# 100, the audit is clean, and reports the server's CPU seconds per order.
#
#   bench/wrk.sh [sqlite|postgres] [seconds] [connections]
#
# Needs: wrk, curl (Debian packages); PostgreSQL at
# postgres://postgres@127.0.0.1:5432 for the postgres run.
set -euo pipefail
cd "$(dirname "$0")/.."
backend="${1:-sqlite}"
secs="${2:-10}"
conns="${3:-64}"
bin="${SWITCHYARD_BIN:-${CARGO_TARGET_DIR:-target}/release/switchyard}"
[ -x "$bin" ] || cargo build --release -p switchyard
port=$((20000 + RANDOM % 20000))
export SWITCHYARD_API_TOKEN="bench-token-$RANDOM$RANDOM$RANDOM"
export BENCH_RUN="r$RANDOM"
tmp="$(mktemp -d)"
case "$backend" in
  sqlite) db="$tmp/bench.db" ;;
  postgres)
    name="switchyard_bench_$RANDOM"
    psql -q -h 127.0.0.1 -U postgres -d postgres -c "CREATE DATABASE $name"
    db="postgres://postgres@127.0.0.1:5432/$name" ;;
  *) echo "backend: sqlite or postgres"; exit 2 ;;
esac
SWITCHYARD_LOG="${SWITCHYARD_LOG:-warn}" "$bin" serve --db "$db" --listen "127.0.0.1:$port" > "$tmp/serve.log" 2>&1 &
server=$!
cleanup() {
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  [ "$backend" = postgres ] && psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $name" || true
  [ -n "${KEEP_LOG:-}" ] && cp "$tmp/serve.log" "$KEEP_LOG"; rm -rf "$tmp"
}
trap cleanup EXIT
base="http://127.0.0.1:$port"
for _ in $(seq 1 100); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.1; done
auth=(-H "Authorization: Bearer $SWITCHYARD_API_TOKEN" -H "Content-Type: application/json")
curl -sf "${auth[@]}" -X PUT "$base/api/v1/locations/WH" -d '{"name":"Warehouse","kind":"warehouse",
  "address":{"line1":"1 Dock","city":"Reno","region":"NV","postal_code":"89501","country":"US"},
  "lat":39.5,"lon":-119.8,"can_ship":true,"can_pickup":false,"priority":1,"active":true}' >/dev/null
{
  echo "sku,title,location,on_hand"
  for i in $(seq 0 999); do printf 'S%04d,Item %d,WH,1000000\n' "$i" "$i"; done
  echo "HOT,Hot item,WH,100"
} > "$tmp/stock.csv"
"$bin" import --db "$db" "$tmp/stock.csv" >/dev/null
ticks() { awk '{print $14 + $15}' "/proc/$server/stat"; }
before=$(ticks)
wrk -t 2 -c "$conns" -d "${secs}s" --latency -s bench/orders.lua "$base" | tee "$tmp/wrk.txt"
after=$(ticks)
orders=$(awk '/requests in/ {print $1}' "$tmp/wrk.txt")
hz=$(getconf CLK_TCK)
hot=$(curl -sf "${auth[@]}" "$base/api/v1/inventory/HOT")
echo "hot SKU: $hot"
python3 - "$hot" <<'PY'
import json, sys
p = json.loads(sys.argv[1])["locations"][0]
print(f"hot SKU allocated: {p['reserved']} of 100 (on_hand {p['on_hand']})")
sys.exit(0 if p["reserved"] == 100 else 1)
PY
awk -v b="$before" -v a="$after" -v hz="$hz" -v n="$orders" -v s="$secs" \
  'BEGIN { cpu = (a - b) / hz; printf "server CPU: %.2f s over %d s (%.0f%% of one core), %.1f us per request\n", cpu, s, 100 * cpu / s, 1e6 * cpu / n }'
kill "$server"; wait "$server" 2>/dev/null || true
"$bin" audit --db "$db"
