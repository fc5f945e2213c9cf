#!/usr/bin/env python3
"""Writes a deterministic order history for `switchyard simulate` (bench/simulate.sh).

    bench/simulate_history.py OUT_DIR [rows]

OUT_DIR/orders.csv: `rows` history rows (default 1,000,000; one row per order line, one order in
three has two lines) over the 365 days from 2025-01-01, in time order, seven channels, 2,000 SKUs
(a few sell far more), US postal codes with coordinates, 5 in 100 orders expedited, 3 same-day, 4
pickup at STORE1. OUT_DIR/stock.csv: the starting stock of every SKU at the five locations (enough
for most of the year, short for the best sellers). Three policies: default.toml (the built-in
default), distance.toml (nearest first, splits up to 3), protect.toml (walk-in stock of a best
seller kept at the stores). The same arguments write the same bytes.
"""
import os
import sys

out = sys.argv[1]
rows = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
os.makedirs(out, exist_ok=True)
CHANNELS = ["web", "shopify", "amazon", "ebay", "etsy", "pos", "wholesale"]
SKUS = 2000
START_S = 1735689600  # 2025-01-01T00:00:00Z
SPAN_S = 365 * 86400
# (postal code, lat, lon) of customers.
PLACES = [("10001", 40.75, -73.99), ("60601", 41.88, -87.62), ("94103", 37.77, -122.41),
          ("73301", 30.27, -97.74), ("98101", 47.61, -122.33), ("33101", 25.77, -80.19),
          ("02108", 42.36, -71.06), ("80202", 39.75, -104.99), ("30303", 33.75, -84.39),
          ("85004", 33.45, -112.07)]

state = 12345


def rand():
    """A 64-bit LCG: deterministic on every platform."""
    global state
    state = (state * 6364136223846793005 + 1442695040888963407) & 0xFFFFFFFFFFFFFFFF
    return state >> 33


def sku():
    # One draw in four goes to the 40 best sellers.
    return "SKU%04d" % (rand() % 40 if rand() % 4 == 0 else rand() % SKUS)


orders = (rows * 3 + 3) // 4  # one order in three has two lines: 4 rows per 3 orders
written = 0
with open(os.path.join(out, "orders.csv"), "w") as f:
    f.write("created_at,channel,external_id,sku,quantity,unit_price,currency,postal_code,country,"
            "service_level,lat,lon,pickup_location\n")
    i = 0
    while written < rows:
        t = START_S + (i * SPAN_S) // orders
        stamp = "%04d-%02d-%02dT%02d:%02d:%02dZ" % (*__import__("time").gmtime(t)[:6],)
        channel = CHANNELS[rand() % len(CHANNELS)]
        postal, lat, lon = PLACES[rand() % len(PLACES)]
        r = rand() % 100
        level = "expedited" if r < 5 else "same_day" if r < 8 else "pickup" if r < 12 else "standard"
        pickup = "STORE1" if level == "pickup" else ""
        lines = 2 if rand() % 3 == 0 else 1
        for _ in range(min(lines, rows - written)):
            qty = 1 + (rand() % 10 == 0)
            price = "%d.%02d" % (5 + rand() % 60, rand() % 100)
            f.write(f"{stamp},{channel},{i},{sku()},{qty},{price},USD,{postal},US,{level},{lat},{lon},{pickup}\n")
            written += 1
        i += 1

with open(os.path.join(out, "stock.csv"), "w") as f:
    f.write("sku,title,location,on_hand\n")
    for s in range(SKUS):
        for loc in ["WH1", "WH2", "STORE1", "STORE2", "STORE3"]:
            deep = 60 if loc.startswith("WH") else 15
            f.write("SKU%04d,Item %d,%s,%d\n" % (s, s, loc, deep if s >= 40 else deep * 20))

with open(os.path.join(out, "default.toml"), "w") as f:
    f.write("# The built-in default policy.\n")
with open(os.path.join(out, "distance.toml"), "w") as f:
    f.write('[ranking]\nmode = "lexicographic"\ncriteria = [{ kind = "distance" }, { kind = "priority" }]\n\n'
            '[split]\nmax_shipments = 3\n')
with open(os.path.join(out, "protect.toml"), "w") as f:
    f.write('[[protection]]\nlocations = ["STORE1", "STORE2", "STORE3"]\nsku = "SKU0001"\nkeep_units = 3\n\n'
            '[protection.release_to]\nservice_levels = ["same_day", "pickup"]\n')
print(f"{written} rows, {i} orders in {out}")
