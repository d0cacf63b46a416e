-- wrk script for the api_list figure: cycles through the paths in WRK_PATHS (one per line)
-- with the token in WRK_TOKEN, and prints the latency percentiles as one JSON line.
local paths = {}
local token = os.getenv("WRK_TOKEN")
local file = io.open(os.getenv("WRK_PATHS"), "r")
for line in file:lines() do
  if #line > 0 then table.insert(paths, line) end
end
file:close()
local counter = 0

request = function()
  counter = counter + 1
  local path = paths[(counter % #paths) + 1]
  return wrk.format("GET", path, {["Authorization"] = "Bearer " .. token})
end

done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "non_2xx": %d, "socket_errors": %d,'
      .. ' "p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, errors.status,
    errors.connect + errors.read + errors.write + errors.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    latency.max, latency.mean))
end
