#!/usr/bin/env bash
# The metrics API over a year of history: creates a fresh database with `switchyard audit` (which
# migrates it), writes ORDERS orders (default 1,000,000) spread over the 365 days before now with
# their lines, allocations, shipments, cancellations, returns, exceptions, complaints, timeline
# events and channel lags by bulk SQL (bench/metrics_seed.sql, deterministic), starts
# `switchyard serve` on it and times GET /api/v1/metrics for the year, for one channel and for one
# location, and the CSV of the year: the first call of each, then the best and the median of RUNS
# (default 5) more. Times are curl's total time for the request, on this machine.
#
#   bench/metrics.sh [sqlite|postgres] [orders]
#
# Needs: sqlite3 or psql, curl; PostgreSQL at postgres://postgres@127.0.0.1:5432 for the postgres run.
# KEEP_DB=path keeps (and, when it exists, reuses) the seeded SQLite file.
set -euo pipefail
cd "$(dirname "$0")/.."
backend="${1:-sqlite}"
orders="${2:-1000000}"
runs="${RUNS:-5}"
bin="${SWITCHYARD_BIN:-${CARGO_TARGET_DIR:-target}/release/switchyard}"
[ -x "$bin" ] || cargo build --release -p switchyard
port=$((20000 + RANDOM % 20000))
export SWITCHYARD_API_TOKEN="bench-token-$RANDOM$RANDOM$RANDOM"
tmp="$(mktemp -d)"
day_ms=86400000
end_ms=$(( $(date +%s) * 1000 ))
start_ms=$(( end_ms - 365 * day_ms ))
seed() {
  sed -e "s/:START_MS/$start_ms/g; s/:END_MS/$end_ms/g; s/:ORDERS/$orders/g" bench/metrics_seed.sql
}
reuse=""
case "$backend" in
  sqlite)
    db="${KEEP_DB:-$tmp/bench.db}"
    [ -n "${KEEP_DB:-}" ] && [ -f "$KEEP_DB" ] && reuse=1 ;;
  postgres)
    name="switchyard_metrics_$RANDOM"
    psql -q -h 127.0.0.1 -U postgres -d postgres -c "CREATE DATABASE $name"
    db="postgres://postgres@127.0.0.1:5432/$name" ;;
  *) echo "backend: sqlite or postgres"; exit 2 ;;
esac
server=""
cleanup() {
  [ -n "$server" ] && { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; }
  [ "$backend" = postgres ] && psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $name" || true
  rm -rf "$tmp"
}
trap cleanup EXIT
if [ -z "$reuse" ]; then
  # Only `serve` creates a database: start it on the new one, and stop it once it answers.
  SWITCHYARD_LOG=warn "$bin" serve --db "$db" --listen "127.0.0.1:$port" > "$tmp/migrate.log" 2>&1 &
  server=$!
  for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
  kill "$server"; wait "$server" 2>/dev/null || true; server=""
  t0=$(date +%s.%N)
  case "$backend" in
    sqlite) seed | sqlite3 "$db"; sqlite3 "$db" "ANALYZE" ;;
    postgres) seed | psql -q -v ON_ERROR_STOP=1 "$db"; psql -q "$db" -c "VACUUM ANALYZE" ;;
  esac
  echo "seeded $orders orders in $(echo "$(date +%s.%N) - $t0" | bc) s"
fi
# The first report over the year computes every day's rollup (minutes at this size): no request
# time limit, so it finishes and saves them.
SWITCHYARD_REQUEST_TIMEOUT_SECS=3600 SWITCHYARD_LOG="${SWITCHYARD_LOG:-warn}" "$bin" serve --db "$db" --listen "127.0.0.1:$port" > "$tmp/serve.log" 2>&1 &
server=$!
base="http://127.0.0.1:$port"
for _ in $(seq 1 300); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.1; done
from=$(date -u -d "@$(( start_ms / 1000 ))" +%Y-%m-%d)
to=$(date -u +%Y-%m-%d)
time_it() { # label, path and query
  local label="$1" url="$base$2" first times
  first=$(curl -sf -o "$tmp/body" -w '%{time_total}' -H "Authorization: Bearer $SWITCHYARD_API_TOKEN" "$url")
  times=$(for _ in $(seq 1 "$runs"); do
    curl -sf -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $SWITCHYARD_API_TOKEN" "$url"
  done | sort -n)
  printf '%-28s first %7.1f ms   best %7.1f ms   median %7.1f ms\n' "$label" \
    "$(echo "$first * 1000" | bc)" "$(echo "$(echo "$times" | head -1) * 1000" | bc)" \
    "$(echo "$(echo "$times" | sed -n "$(( (runs + 1) / 2 ))p") * 1000" | bc)"
}
echo "$backend, $orders orders, $from to $to; load: $(cut -d' ' -f1-3 /proc/loadavg)"
time_it "year" "/api/v1/metrics?from=$from&to=$to"
grep -o '"orders":[0-9]*' "$tmp/body" | head -1
time_it "year, channel web" "/api/v1/metrics?from=$from&to=$to&channel=web"
time_it "year, location L1" "/api/v1/metrics?from=$from&to=$to&location=L1"
time_it "year, web at L1" "/api/v1/metrics?from=$from&to=$to&channel=web&location=L1"
time_it "30 days" "/api/v1/metrics?from=$(date -u -d '30 days ago' +%Y-%m-%d)&to=$to"
time_it "year as CSV (per day)" "/api/v1/metrics.csv?from=$from&to=$to"
