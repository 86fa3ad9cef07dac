-- Conditional GET: sends If-None-Match with the resource's current ETag, so every answer is
-- 304 Not Modified (the revalidation a browser or CDN does once max-age has passed).
-- bench/run.sh passes the ETag in BENCH_ETAG.
local etag = os.getenv("BENCH_ETAG")
if etag == nil or etag == "" then
  error("BENCH_ETAG must hold the ETag to send in If-None-Match")
end
wrk.headers["If-None-Match"] = etag
