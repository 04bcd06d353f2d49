-- Reboot storm: the registered devices fetch their topics or config with their own key.
--   BENCH_DEVICES  file of "device_id device_key etag" lines (bench/fleet.py devices)
--   BENCH_FETCH    topics | config | config-etag (config with If-None-Match: the current ETag)
--   BENCH_ONE_PASS 1 = every device exactly once, spread over the threads; otherwise each
--                  thread cycles over all devices (from its own offset) for wrk's -d
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
local bench = require("lib")

local env = os.getenv
local kind = env("BENCH_FETCH")
local requests = {}

local function build(device_id, key, etag)
   local headers = {["Authorization"] = "Device " .. key}
   local path = "/api/v1/devices/" .. device_id .. "/config/"
   if kind == "topics" then
      path = "/api/v1/devices/" .. device_id .. "/topics/"
   elseif kind == "config-etag" then
      headers["If-None-Match"] = etag
   end
   return wrk.format("GET", path, headers)
end

function init(args)
   local lines = {}
   for line in io.lines(env("BENCH_DEVICES")) do
      lines[#lines + 1] = line
   end
   assert(#lines > 0, "no devices in " .. env("BENCH_DEVICES"))
   local total = env("BENCH_ONE_PASS") == "1" and #lines or nil
   local nthreads = tonumber(env("BENCH_THREADS") or "1")
   for index, line in ipairs(lines) do
      if not total or (index - 1) % nthreads == tid then
         local device_id, key, etag = line:match("^(%S+) (%S+) (.+)$")
         requests[#requests + 1] = build(device_id, key, etag)
      end
   end
   -- Cycling threads start at different offsets, so together they cover the fleet quickly.
   local offset = total and 0 or math.floor(#requests * tid / nthreads)
   local count = #requests
   bench.start(function(i) return requests[(offset + i - 1) % count + 1] end, nil, total)
end

bench.install()
