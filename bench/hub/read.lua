-- wrk script: reads one existing cluster over and over.
local token = os.getenv("CAUSEWAY_TOKEN")
local zone = os.getenv("BENCH_ZONE") or "bench"
wrk.headers["Authorization"] = "Bearer " .. token
wrk.path = "/v1/zones/" .. zone .. "/clusters/seed"
