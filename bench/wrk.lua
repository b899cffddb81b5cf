-- wrk script for make bench (bench/run.sh), modelled on ../shared/peers/wrk/bench.lua
-- so that Beer Locker and the peers get byte-for-byte comparable requests.
-- Every request of a run is the same; the mode and credentials come from the
-- environment:
--
--   BENCH_MODE     client_credentials  W1  POST token endpoint, Basic client auth
--                  beers               W2  GET /api/beers, Bearer BENCH_TOKEN
--                  password            W3  POST token endpoint, grant_type=password, Basic client auth
--                  beers_basic         W4  GET /api/beers, Basic BENCH_BASIC (the user's own)
--                  beers_post          W5  POST /api/beers, JSON body, Bearer BENCH_TOKEN
--   BENCH_BASIC    base64("id:secret")  (client for W1/W3, user for W4)
--   BENCH_TOKEN    bearer access token  (W2, W5)
--   BENCH_USERNAME, BENCH_PASSWORD      (W3; default alice / s3cret-pass)
--
-- The path comes from the URL on wrk's command line. done() prints one
-- machine-readable RESULT line that run.sh parses. non2xx is wrk's count of
-- responses with status >= 400 (as in the peers' script; no response()
-- callback, which would slow wrk down); run.sh checks with curl that the exact
-- request answers 2xx before every run, so a 3xx cannot slip through.
local mode = os.getenv("BENCH_MODE") or "beers"
local basic = os.getenv("BENCH_BASIC") or ""
local token = os.getenv("BENCH_TOKEN") or ""
local username = os.getenv("BENCH_USERNAME") or "alice"
local password = os.getenv("BENCH_PASSWORD") or "s3cret-pass"

if mode == "beers" then
  wrk.method = "GET"
  wrk.headers["Authorization"] = "Bearer " .. token
elseif mode == "beers_basic" then
  wrk.method = "GET"
  wrk.headers["Authorization"] = "Basic " .. basic
elseif mode == "beers_post" then
  wrk.method = "POST"
  wrk.headers["Authorization"] = "Bearer " .. token
  wrk.headers["Content-Type"] = "application/json"
  wrk.body = '{"name":"Bench","type":"Ale","quantity":1}'
else
  wrk.method = "POST"
  wrk.headers["Authorization"] = "Basic " .. basic
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  if mode == "client_credentials" then
    wrk.body = "grant_type=client_credentials"
  elseif mode == "password" then
    wrk.body = "grant_type=password&username=" .. username .. "&password=" .. password
  else
    error("unknown BENCH_MODE " .. mode)
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_us=%d rps=%.1f p50_us=%d p99_us=%d max_us=%d non2xx=%d connect=%d read=%d write=%d timeout=%d\n",
    summary.requests, summary.duration, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99), latency.max,
    e.status, e.connect, e.read, e.write, e.timeout))
end
