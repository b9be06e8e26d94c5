-- wrk script for perf/macro/run.sh.
--
--   wrk ... -s wrk.lua URL -- DEPTH [METHOD [BODY_FILE]]
--
-- DEPTH (default 1) requests are written back to back on each connection and wrk waits
-- for all DEPTH responses before writing the next batch (HTTP/1.1 pipelining, as
-- TechEmpower's pipeline.lua). METHOD and BODY_FILE set the request's method and body
-- (sent with Content-Length). With DEPTH 1 no request() function is defined, so wrk keeps
-- its static request and the script costs nothing per request.
--
-- done() prints one machine-readable line that the runner parses:
--   WRK_RESULT requests=N duration_us=N bytes=N connect=N read=N write=N status=N timeout=N
--              p50_us=N p90_us=N p99_us=N p999_us=N max_us=N
-- (status counts responses with a status of 400 or more.)

init = function(args)
  local depth = tonumber(args[1]) or 1
  if args[2] and args[2] ~= "" then
    wrk.method = args[2]
  end
  if args[3] and args[3] ~= "" then
    local f = assert(io.open(args[3], "rb"))
    wrk.body = f:read("*a")
    f:close()
    wrk.headers["Content-Type"] = "application/octet-stream"
  end
  if depth > 1 then
    local batch = {}
    for i = 1, depth do
      batch[i] = wrk.format()
    end
    local bytes = table.concat(batch)
    request = function()
      return bytes
    end
  end
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRK_RESULT requests=%d duration_us=%d bytes=%d connect=%d read=%d write=%d status=%d timeout=%d " ..
    "p50_us=%d p90_us=%d p99_us=%d p999_us=%d max_us=%d\n",
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency:percentile(99.9),
    latency.max))
end
