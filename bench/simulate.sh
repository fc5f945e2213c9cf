#!/usr/bin/env bash
# `switchyard simulate` at scale, end to end through the CLI: a shop (five locations with
# coordinates, 2,000 SKUs) in a fresh SQLite file, ROWS history rows (default 1,000,000) written by
# bench/simulate_history.py (deterministic), replayed against its three policies, timed with
# /usr/bin/time -v (wall time and peak RSS; CSV parsing included). Prints the machine's load first.
#
#   bench/simulate.sh [rows]
#
# Needs: python3, curl, /usr/bin/time (Debian package `time`).
set -euo pipefail
cd "$(dirname "$0")/.."
rows="${1:-1000000}"
bin="${SWITCHYARD_BIN:-${CARGO_TARGET_DIR:-target}/release/switchyard}"
[ -x "$bin" ] || cargo build --release -p switchyard
tmp="$(mktemp -d)"
port=$((20000 + RANDOM % 20000))
export SWITCHYARD_API_TOKEN="bench-token-$RANDOM$RANDOM$RANDOM"
server=""
cleanup() {
  [ -n "$server" ] && { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; }
  rm -rf "$tmp"
}
trap cleanup EXIT
python3 bench/simulate_history.py "$tmp" "$rows"
db="$tmp/shop.db"
SWITCHYARD_LOG=warn "$bin" serve --db "$db" --listen "127.0.0.1:$port" > "$tmp/serve.log" 2>&1 &
server=$!
base="http://127.0.0.1:$port"
for _ in $(seq 1 100); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.1; done
auth=(-H "Authorization: Bearer $SWITCHYARD_API_TOKEN" -H "Content-Type: application/json")
while read -r code kind city region postal lat lon pickup priority; do
  curl -sf "${auth[@]}" -X PUT "$base/api/v1/locations/$code" -d "{\"name\":\"$code\",\"kind\":\"$kind\",
    \"address\":{\"line1\":\"1 Main St\",\"city\":\"$city\",\"region\":\"$region\",\"postal_code\":\"$postal\",
    \"country\":\"US\"},\"lat\":$lat,\"lon\":$lon,\"can_ship\":true,\"can_pickup\":$pickup,
    \"priority\":$priority,\"active\":true}" >/dev/null
done <<'LOCATIONS'
WH1 warehouse Reno NV 89501 39.53 -119.81 false 1
WH2 warehouse Columbus OH 43215 39.96 -82.99 false 2
STORE1 store Brooklyn NY 11201 40.69 -73.99 true 3
STORE2 store Chicago IL 60601 41.88 -87.62 true 4
STORE3 store Austin TX 73301 30.27 -97.74 true 5
LOCATIONS
"$bin" import --db "$db" "$tmp/stock.csv" >/dev/null
kill "$server"; wait "$server" 2>/dev/null || true; server=""
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/time -v "$bin" simulate --db "$db" --history "$tmp/orders.csv" --stock "$tmp/stock.csv" \
  --policy "$tmp/default.toml" --policy "$tmp/distance.toml" --policy "$tmp/protect.toml" \
  > "$tmp/out.txt" 2> "$tmp/time.txt" || { cat "$tmp/time.txt"; exit 1; }
cat "$tmp/out.txt"
grep -E "Elapsed \(wall clock\)|Maximum resident set size|User time|System time|Percent of CPU" "$tmp/time.txt"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
