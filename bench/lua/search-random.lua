-- Non-core flood: GET /api/search with a different query each request, so no answer comes from a cache.
-- Words are percent-encoded as a client sends them (a raw UTF-8 request target is a 400 from Kestrel).
local words = { "phone", "laptop", "tea", "shoes", "camera", "watch", "bag", "coffee", "手机", "耳机", "rice", "pen" }
local function encode(text)
  return (text:gsub("[^%w%-%._~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end
for i, word in ipairs(words) do
  words[i] = encode(word)
end
local n = 0
request = function()
  n = n + 1
  local q = words[(n % #words) + 1] .. tostring(n % 997)
  return wrk.format("GET", "/api/search?q=" .. q .. "&page=" .. tostring((n % 5) + 1))
end
