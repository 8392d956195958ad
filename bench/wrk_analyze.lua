-- wrk script for bench/bench_service.py: POST short texts to /v1/analyze and collect the
-- server's own timing (Server-Timing: app;dur=..., analyze;dur=...) from every response.
local texts = {"送餐太慢了，汤都洒了", "服务员态度很好，菜也好吃", "The waiter was rude and the food was cold.",
               "app 一直闪退，付不了款", "Great coffee, friendly staff!", "快递三天才到，包装也破了",
               "退款申请了一周还没到账", "Checked in fast, the room was spotless.", "价格有点贵，但是味道不错",
               "My order never arrived and support never answered."}
local threads = {}
local counter = 0

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  app, analyze, non200 = {}, {}, 0
  -- optional open-loop pacing: `-- MS` after the URL = milliseconds between requests per connection
  pace = tonumber(args[1])
end

function delay()
  if pace then return pace end
  return 0
end

function request()
  counter = counter + 1
  local body = '{"text": "' .. texts[(counter % #texts) + 1] .. '", "id": "' .. counter .. '"}'
  return wrk.format("POST", "/v1/analyze", {["Content-Type"] = "application/json"}, body)
end

function response(status, headers, body)
  if status ~= 200 then non200 = non200 + 1 end
  local st = headers["server-timing"] or headers["Server-Timing"]
  if st then
    local a = st:match("app;dur=([%d%.]+)")
    local b = st:match("analyze;dur=([%d%.]+)")
    if a then table.insert(app, tonumber(a)) end
    if b then table.insert(analyze, tonumber(b)) end
  end
end

local function pct(t, p)
  if #t == 0 then return -1 end
  table.sort(t)
  return t[math.max(1, math.min(#t, math.floor(p * #t + 0.5)))]
end

function done(summary, latency, requests)
  local all_app, all_an, bad = {}, {}, 0
  for _, thread in ipairs(threads) do
    for _, v in ipairs(thread:get("app")) do table.insert(all_app, v) end
    for _, v in ipairs(thread:get("analyze")) do table.insert(all_an, v) end
    bad = bad + thread:get("non200")
  end
  io.write(string.format('WRKJSON {"requests": %d, "seconds": %.2f, "non200": %d, "socket_errors": %d, ' ..
    '"client_p50_ms": %.2f, "client_p99_ms": %.2f, "server_p50_ms": %.3f, "server_p99_ms": %.3f, ' ..
    '"analyze_p50_ms": %.3f, "analyze_p99_ms": %.3f}\n',
    summary.requests, summary.duration / 1e6, bad,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    pct(all_app, 0.5), pct(all_app, 0.99), pct(all_an, 0.5), pct(all_an, 0.99)))
end
