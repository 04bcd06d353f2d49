-- Shared by the wrk scripts of the benchmark (bench/README.md). Configured from the environment:
--   BENCH_NAME      scenario name, written into the summary
--   BENCH_OUT       where done() writes the scenario's JSON summary
--   BENCH_THREADS   wrk's -t (each thread needs to know its share of a quota)
--   BENCH_EXPECT    the statuses that count as success, e.g. "200" or "200,201"
--   BENCH_RUN_DIR   a fresh directory per run (quota runs leave a marker per finished thread)
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
-- shell: system() ignores SIGINT in the caller while it runs.)

local M = {}

local env = os.getenv
local nthreads = tonumber(env("BENCH_THREADS") or "1")
local run_dir = env("BENCH_RUN_DIR") or "."
local filler_body = "pong"

local expected = {}
for code in (env("BENCH_EXPECT") or "200"):gmatch("%d+") do
   expected[tonumber(code)] = true
end

local threads = {}

-- Main state: give every thread its index before its init() runs.
function M.setup(thread)
   thread:set("tid", #threads)
   table.insert(threads, thread)
end

-- Per-thread state (globals, so that thread:get() can read them).
statuses = {}    -- status code -> responses of the scenario
answered = 0     -- responses of the scenario (fillers excluded)
quota = nil      -- this thread's share of the quota, nil = run for wrk's -d
local sent = 0
local make_request, on_response, filler
local skip_probe = false

-- The share of `total` items that thread `tid` takes (items tid+1, tid+1+n, tid+1+2n, ...).
function M.share(total, tid)
   local share = math.floor(total / nthreads)
   if tid < total % nthreads then
      share = share + 1
   end
   return share
end

-- Start this thread: make(i) builds its i-th request (i from 1); handle(status, headers, body)
-- sees each response of the scenario; total is the quota of all threads, or nil.
function M.start(make, handle, total)
   make_request, on_response = make, handle
   if total then
      quota = M.share(total, tid)
      filler = wrk.format("GET", "/health/live/")
   end
   -- wrk builds one request of thread 0 to check its syntax, and never sends it.
   skip_probe = tid == 0
end

function M.request()
   if skip_probe then
      skip_probe = false
      return make_request(1)
   end
   if quota and sent >= quota then
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

-- Main state: merge the threads' counters and write the scenario's summary.
function M.done(summary, latency, requests)
   local merged, total, unexpected, quota_total = {}, 0, 0, 0
   for _, thread in ipairs(threads) do
      for code, n in pairs(thread:get("statuses")) do
         merged[code] = (merged[code] or 0) + n
         if not expected[code] then
            unexpected = unexpected + n
         end
      end
      total = total + thread:get("answered")
      quota_total = quota_total + (thread:get("quota") or 0)
   end
   local seconds = summary.duration / 1e6
   local e = summary.errors
   local result = {
      name = string.format("%q", env("BENCH_NAME") or "?"),
      seconds = string.format("%.3f", seconds),
      requests = total,
      quota = quota_total > 0 and quota_total or "null",
      rps = string.format("%.1f", total / seconds),
      p50_ms = string.format("%.3f", latency:percentile(50) / 1000),
      p90_ms = string.format("%.3f", latency:percentile(90) / 1000),
      p99_ms = string.format("%.3f", latency:percentile(99) / 1000),
      max_ms = string.format("%.3f", latency.max / 1000),
      statuses = json_object(merged),
      unexpected = unexpected,
      socket_errors = json_object({connect = e.connect, read = e.read, write = e.write, timeout = e.timeout}),
   }
   local out = assert(io.open(env("BENCH_OUT"), "w"))
   out:write(json_object(result), "\n")
   out:close()
end

-- Install the wrk hooks as the globals wrk looks for.
function M.install()
   setup, request, response, done = M.setup, M.request, M.response, M.done
end

return M
