-- wrk script: every request posts a NEW order (unique external id) for one
-- unit of one of 1,000 SKUs; every 10th order asks for the hot SKU instead,
-- which has only 100 units. Used by bench/wrk.sh. BENCH_SKU_PREFIX,
-- BENCH_SKU_DIGITS, BENCH_SKUS and BENCH_HOT_EVERY (0: no hot SKU) point it
-- at another catalogue (e.g. K000000..K099999 stocked at 10 locations).
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  token = os.getenv("SWITCHYARD_API_TOKEN") or ""
  run = os.getenv("BENCH_RUN") or "r"
  prefix = os.getenv("BENCH_SKU_PREFIX") or "S"
  digits = tonumber(os.getenv("BENCH_SKU_DIGITS") or "4")
  skus = tonumber(os.getenv("BENCH_SKUS") or "1000")
  hot_every = tonumber(os.getenv("BENCH_HOT_EVERY") or "10")
  n = 0
  responses = {}
end

request = function()
  n = n + 1
  local sku
  if hot_every > 0 and n % hot_every == 0 then
    sku = "HOT"
  else
    sku = string.format("%s%0" .. digits .. "d", prefix, (n * 7919 + tid * 104729) % skus)
  end
  local body = string.format(
    '{"channel":"web","external_id":"%s-%d-%d","currency":"USD",' ..
    '"lines":[{"sku":"%s","quantity":1,"unit_price":1500}],' ..
    '"ship_to":{"name":"Bench","line1":"1 Main St","city":"Reno","region":"NV",' ..
    '"postal_code":"89501","country":"US"}}',
    run, tid, n, sku)
  return wrk.format("POST", "/api/v1/orders",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token}, body)
end

response = function(status, headers, body)
  responses[status] = (responses[status] or 0) + 1
end

done = function(summary, latency, requests)
  io.write(string.format("p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\n",
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000))
  local codes = {}
  for _, t in ipairs(threads) do
    local r = t:get("responses")
    for status, count in pairs(r) do codes[status] = (codes[status] or 0) + count end
  end
  for status, count in pairs(codes) do io.write(string.format("status %d: %d\n", status, count)) end
end
