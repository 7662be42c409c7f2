-- wrk script: each request creates a new cluster with a unique name.
-- wrk runs one Lua state per thread; `thread_id` keeps names unique across threads.
local counter = 0
local token = os.getenv("CAUSEWAY_TOKEN")
local zone = os.getenv("BENCH_ZONE") or "bench"
local prefix = os.getenv("BENCH_PREFIX") or "w"

function request()
  counter = counter + 1
  local body = string.format('{"name":"%s-%d","instances":[{"host":"10.0.0.1","port":%d}]}',
                             prefix, counter, 1000 + counter % 60000)
  return wrk.format("POST", "/v1/zones/" .. zone .. "/clusters",
                    {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}, body)
end
-- wrk itself reports "Non-2xx or 3xx responses" when any write fails.
