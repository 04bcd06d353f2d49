-- Shared by the wrk scripts of the benchmark (bench/README.md). Configured from the environment:
--   BENCH_NAME      scenario name, written into the summary
--   BENCH_OUT       where done() writes the scenario's JSON summary
--   BENCH_THREADS   wrk's -t (each thread needs to know its share of a quota)
--   BENCH_EXPECT    the statuses that count as success, e.g. "200" or "200,201"
--   BENCH_RUN_DIR   a fresh directory per run (quota runs leave a marker per finished thread)
--   BENCH_BODY_MATCH  optional: answers whose body lacks this text are counted as mismatched
--
-- Each wrk thread has its own Lua state: counters are per-thread globals, which done() (in the
-- main state) reads back with thread:get().
--
-- With a quota, the threads send exactly that many requests of the scenario between them. A
-- connection that becomes free after its thread's last request sends a filler instead (GET
-- /health/live/, recognised by its body "pong" and not counted), so nothing beyond the quota
-- reaches the scenario's endpoint. A finished thread keeps its connections busy with fillers
-- rather than stopping: an idle open connection would pin a gunicorn sync worker until its
-- timeout. wrk sleeps for its whole -d however early the work is done, so the last thread to
-- finish interrupts it with SIGINT, which ends a wrk run cleanly. (Sent from a background
-- shell: system() ignores SIGINT in the caller while it runs.) Every scenario request then has
-- its answer counted: the checks can compare answers with database rows exactly.
--
-- Used by bench/lua/*.lua (devices) and bench/integrations/lua/*.lua (integrations).

local M = {}

local env = os.getenv
local nthreads = tonumber(env("BENCH_THREADS") or "1")
local run_dir = env("BENCH_RUN_DIR") or "."
local filler_body = "pong"
local body_match = env("BENCH_BODY_MATCH")

local expected = {}
for code in (env("BENCH_EXPECT") or "200"):gmatch("%d+") do
   expected[tonumber(code)] = true
end

local threads = {}

function M.setup(thread)
   thread:set("tid", #threads)
   table.insert(threads, thread)
end

-- Per-thread state: globals, read back by done() with thread:get().
statuses = {}
answered = 0
sent = 0
fillers = 0
mismatched = 0
quota = nil
first_unexpected = ""
local make_request, on_response, filler
local skip_probe = false

function M.nthreads()
   return nthreads
end

function M.share(total, thread_index)
   local share = math.floor(total / nthreads)
   if thread_index < total % nthreads then
      share = share + 1
   end
   return share
end

-- make(i) builds this thread's i-th request (i from 1); handle(status, headers, body) sees each
-- scenario response; total is the quota of all threads (nil: run for wrk's -d).
function M.start(make, handle, total)
   make_request, on_response = make, handle
   filler = wrk.format("GET", "/health/live/")
   if total then
      quota = M.share(total, tid)
   end
   -- wrk builds one request of thread 0 to check it, and never sends it.
   skip_probe = tid == 0
end

function M.request()
   if skip_probe then
      skip_probe = false
      return make_request(1)
   end
   if quota and sent >= quota then
      fillers = fillers + 1
      return filler
   end
   sent = sent + 1
   return make_request(sent)
end

local function finish()
   local marker = io.open(run_dir .. "/done." .. tid, "w")
   marker:close()
   for other = 0, nthreads - 1 do
      local f = io.open(run_dir .. "/done." .. other)
      if not f then
         return
      end
      f:close()
   end
   os.execute("(sleep 0.05; kill -INT $PPID) &")
end

function M.response(status, headers, body)
   if quota and body == filler_body then
      return
   end
   answered = answered + 1
   statuses[status] = (statuses[status] or 0) + 1
   if not expected[status] and first_unexpected == "" then
      -- Kept JSON-safe: control characters, quotes and backslashes become spaces.
      first_unexpected = (string.format("%d %s", status, (body or ""):sub(1, 200)):gsub('[%c"\\]', " "))
   end
   if body_match and not (body or ""):find(body_match, 1, true) then
      mismatched = mismatched + 1
   end
   if on_response then
      on_response(status, headers, body)
   end
   if quota and answered == quota then
      finish()
   end
end

local function json_object(t)
   local parts = {}
   for k, v in pairs(t) do
      parts[#parts + 1] = string.format('"%s": %s', tostring(k), tostring(v))
   end
   return "{" .. table.concat(parts, ", ") .. "}"
end

function M.done(summary, latency, requests)
   local merged, total, unexpected, quota_total, sent_total, filler_total, mismatched_total = {}, 0, 0, 0, 0, 0, 0
   local sample = ""
   for _, thread in ipairs(threads) do
      for code, n in pairs(thread:get("statuses")) do
         merged[code] = (merged[code] or 0) + n
         if not expected[code] then
            unexpected = unexpected + n
         end
      end
      total = total + thread:get("answered")
      sent_total = sent_total + thread:get("sent")
      filler_total = filler_total + thread:get("fillers")
      mismatched_total = mismatched_total + thread:get("mismatched")
      quota_total = quota_total + (thread:get("quota") or 0)
      if sample == "" then
         sample = thread:get("first_unexpected")
      end
   end
   local seconds = summary.duration / 1e6
   local e = summary.errors
   local result = {
      name = string.format("%q", env("BENCH_NAME") or "?"),
      seconds = string.format("%.3f", seconds),
      requests = total,
      sent = sent_total,
      fillers = filler_total,
      quota = quota_total > 0 and quota_total or "null",
      rps = string.format("%.1f", total / seconds),
      p50_ms = string.format("%.3f", latency:percentile(50) / 1000),
      p90_ms = string.format("%.3f", latency:percentile(90) / 1000),
      p99_ms = string.format("%.3f", latency:percentile(99) / 1000),
      max_ms = string.format("%.3f", latency.max / 1000),
      statuses = json_object(merged),
      unexpected = unexpected,
      mismatched = mismatched_total,
      first_unexpected = '"' .. sample .. '"',
      socket_errors = json_object({connect = e.connect, read = e.read, write = e.write, timeout = e.timeout}),
   }
   local out = assert(io.open(env("BENCH_OUT"), "w"))
   out:write(json_object(result), "\n")
   out:close()
end

function M.install()
   setup, request, response, done = M.setup, M.request, M.response, M.done
end

return M
