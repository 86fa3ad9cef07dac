-- POST /api/flash-sales/{sale}/purchase as many distinct buyers: each request takes the next
-- buyer's token from BENCH_TOKENS (one JWT per line), so the load is spread over buyers as on
-- a sale night. Counts answers by status and 409 code (sold_out / limit_reached).
local path = os.getenv("BENCH_PURCHASE_PATH")
local file = os.getenv("BENCH_TOKENS")
if path == nil or file == nil then
  error("BENCH_PURCHASE_PATH and BENCH_TOKENS must be set")
end

local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  tokens = {}
  for line in io.lines(file) do
    table.insert(tokens, line)
  end
  next_token = id * 7919 % #tokens
  statuses = {}
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.body = '{"quantity":1}'
end

function request()
  next_token = next_token % #tokens + 1
  wrk.headers["Authorization"] = "Bearer " .. tokens[next_token]
  return wrk.format(nil, path)
end

function response(status, headers, body)
  local key = tostring(status)
  if status == 409 then
    local code = string.match(body, '"code":"([%w_]+)"')
    key = key .. ":" .. (code or "?")
  end
  statuses[key] = (statuses[key] or 0) + 1
end

function done(summary, latency, requests)
  local totals = {}
  for _, thread in ipairs(threads) do
    for key, count in pairs(thread:get("statuses")) do
      totals[key] = (totals[key] or 0) + count
    end
  end
  local keys = {}
  for key in pairs(totals) do
    table.insert(keys, key)
  end
  table.sort(keys)
  local parts = {}
  for _, key in ipairs(keys) do
    table.insert(parts, string.format("%s=%.0f", key, totals[key]))
  end
  io.write(string.format("STATUSES %s\n", table.concat(parts, " ")))
  io.write(string.format("LATENCY p50=%.0f p99=%.0f\n", latency:percentile(50), latency:percentile(99)))
end
