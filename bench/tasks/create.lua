-- wrk script: POST /api/tasks with the bearer token in $TOKEN; prints one JSON line of results.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
wrk.body = '{"title":"Benchmark task","priority":"high","tags":["bench"],"due_date":"2030-01-01T00:00:00Z"}'

dofile(os.getenv("BENCH_DIR") .. "/report.lua")
