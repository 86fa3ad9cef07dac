-- POST /api/accounts/login with one registered user's credentials (bench/run.sh passes the
-- JSON body in BENCH_LOGIN_BODY), and counts the answers by status so queue refusals
-- (503 server_busy) show apart from successes.
local body = os.getenv("BENCH_LOGIN_BODY")
if body == nil or body == "" then
  error("BENCH_LOGIN_BODY must hold the login request's JSON body")
end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = body

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  statuses = {}
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local totals = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      totals[status] = (totals[status] or 0) + count
    end
  end
  local codes = {}
  for status in pairs(totals) do
    table.insert(codes, status)
  end
  table.sort(codes)
  local parts = {}
  for _, status in ipairs(codes) do
    table.insert(parts, string.format("%d=%.0f", status, totals[status]))
  end
  io.write("Statuses: ", table.concat(parts, " "), "\n")
end
