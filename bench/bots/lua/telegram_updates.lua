-- Telegram webhook ingestion: POST BENCH_TOTAL distinct updates to /telegram-webhook, as Telegram
-- does (JSON, the secret header).
--   BENCH_SECRET    the webhook secret (TELEGRAM_WEBHOOK_SECRET of the hub under test)
--   BENCH_TOTAL     the quota: how many updates in all
--   BENCH_FIRST_ID  the first update_id (ids are BENCH_FIRST_ID .. BENCH_FIRST_ID + BENCH_TOTAL - 1)
-- Thread t sends ids first+t, first+t+n, ... so the ids sent are known exactly. Each update is a
-- group message that is no command: handled (the chat becomes a bot user) without a reply.
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "../../lua/?.lua;" .. package.path
local bench = require("lib")

local headers = {
   ["Content-Type"] = "application/json",
   ["X-Telegram-Bot-Api-Secret-Token"] = os.getenv("BENCH_SECRET"),
}
local first = tonumber(os.getenv("BENCH_FIRST_ID") or "1000000")

local function make(i)
   local id = first + tid + (i - 1) * bench.nthreads()
   local chat = -4000000000 - (id % 50)
   local body = string.format(
      '{"update_id":%d,"message":{"message_id":%d,"from":{"id":%d,"is_bot":false,"first_name":"Bench",'
         .. '"language_code":"en"},"chat":{"id":%d,"title":"Bench group %d","type":"group"},"date":1764680000,'
         .. '"text":"good morning, everyone"}}',
      id, id, 100000 + id % 50, chat, id % 50
   )
   return wrk.format("POST", "/telegram-webhook", headers, body)
end

function init(args)
   bench.start(make, nil, tonumber(os.getenv("BENCH_TOTAL")))
end

bench.install()
