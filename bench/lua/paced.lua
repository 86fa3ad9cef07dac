-- A steady load, as people on phones make it: each connection waits BENCH_THINK_MS (default 10)
-- after an answer before its next request, so N connections send at most N × 1000 / (10 + latency)
-- requests a second whatever the server's speed (a closed loop at full speed would be a flood itself).
local think = tonumber(os.getenv("BENCH_THINK_MS") or "10")
function delay()
  return think
end
