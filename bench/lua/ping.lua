-- The ceiling: GET /health/live/, a plain Django view behind the same middleware, no I/O.
-- Same client-side work per request as the other scenarios (a request() and a response() call).
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
local bench = require("lib")

function init(args)
   local ping = wrk.format("GET", "/health/live/")
   bench.start(function() return ping end, nil, nil)
end

bench.install()
