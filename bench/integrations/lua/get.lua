-- GET BENCH_PATH for wrk's -d: the ceiling (/health/live/) and the weather endpoint's cache hits.
-- Same client-side work per request as webhooks.lua (a request() and a response() call).
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "../../lua/?.lua;" .. package.path
local bench = require("lib")

function init(args)
   local get = wrk.format("GET", os.getenv("BENCH_PATH") or "/health/live/")
   bench.start(function() return get end, nil, nil)
end

bench.install()
