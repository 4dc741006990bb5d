-- wrk script: GET the path given to wrk with the bearer token in $TOKEN; prints one JSON line.
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")

dofile(os.getenv("BENCH_DIR") .. "/report.lua")
