-- Non-core flood: GET /api/search with a different query each request, so no answer comes from a cache.
local words = { "phone", "laptop", "tea", "shoes", "camera", "watch", "bag", "coffee", "手机", "耳机", "rice", "pen" }
local n = 0
request = function()
  n = n + 1
  local q = words[(n % #words) + 1] .. tostring(n % 997)
  return wrk.format("GET", "/api/search?q=" .. q .. "&page=" .. tostring((n % 5) + 1))
end
