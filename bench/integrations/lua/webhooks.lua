-- Signed webhook ingestion: POST each precomputed request of BENCH_REQUESTS once.
--   BENCH_REQUESTS  file of "webhook-id <TAB> webhook-timestamp <TAB> webhook-signature <TAB> body"
--                   lines (bench/integrations/webhooks.py prepare): Lua has no HMAC, so every
--                   request is signed beforehand, each with its own delivery id
--   BENCH_PATH      /api/v1/webhooks/<token>/
--   BENCH_TOTAL     the quota: how many of the lines to send (at most the file's length)
-- Thread t sends lines t+1, t+1+n, ... in order, so the lines sent are known exactly.
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "../../lua/?.lua;" .. package.path
local bench = require("lib")

local lines = {}

local function make(i)
   local line = lines[i]
   local id, ts, sig, body = line:match("^([^\t]+)\t([^\t]+)\t([^\t]+)\t(.*)$")
   return wrk.format("POST", os.getenv("BENCH_PATH"), {
      ["Content-Type"] = "application/json",
      ["webhook-id"] = id,
      ["webhook-timestamp"] = ts,
      ["webhook-signature"] = sig,
   }, body)
end

function init(args)
   local total = tonumber(os.getenv("BENCH_TOTAL"))
   local n, index = bench.nthreads(), 0
   for line in io.lines(os.getenv("BENCH_REQUESTS")) do
      if index >= total then
         break
      end
      if index % n == tid then
         lines[#lines + 1] = line
      end
      index = index + 1
   end
   assert(index == total, "BENCH_REQUESTS holds fewer lines than BENCH_TOTAL")
   bench.start(make, nil, total)
end

bench.install()
