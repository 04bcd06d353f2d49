-- Registration storm: BENCH_TOTAL registrations of new devices, each MAC unique to this run.
--   BENCH_OWNER, BENCH_SECRET  the owner's slug and provisioning secret
--   BENCH_MAC_SERIES           first byte of the MACs after 02 (one series per storm: no overlap)
--   BENCH_COPIES               2 = every MAC is registered twice, by two connections at once
--   BENCH_KEYS                 if set, each thread appends "device_id device_key" lines to BENCH_KEYS.<tid>
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
local bench = require("lib")

local env = os.getenv
local series = tonumber(env("BENCH_MAC_SERIES") or "1")
local copies = tonumber(env("BENCH_COPIES") or "1")
local cities = {"Berlin", "São Paulo", "Москва", "Lyon", "Osaka", "Nairobi", "Quito", "Oslo"}
local types = {"temperature", "humidity", "pressure", "luminosity"}
local headers = {
   ["Content-Type"] = "application/json",
   ["X-Provisioning-Secret"] = env("BENCH_SECRET"),
}
local keys

local function body(n)
   -- Locally administered MACs: 02:<series>:<thread>:<n, 3 bytes>.
   local mac = string.format("02:%02x:%02x:%02x:%02x:%02x", series, tid,
      math.floor(n / 65536) % 256, math.floor(n / 256) % 256, n % 256)
   return string.format(
      '{"mac_address": "%s", "latitude": %.4f, "longitude": %.4f, "city": "%s", "owner": "%s", '
         .. '"measurement_type": "%s", "sensor_model": "DHT22"}',
      mac, (n % 180) - 89.5, (n % 360) - 179.5, cities[n % #cities + 1], env("BENCH_OWNER"),
      types[n % #types + 1])
end

local function make(i)
   -- With copies = 2, requests i and i+1 carry the same MAC and go out on two connections
   -- that are both free at that moment: the server sees them concurrently.
   return wrk.format("POST", "/api/v1/devices/register/", headers, body(math.ceil(i / copies)))
end

local function handle(status, _, response_body)
   if keys and (status == 200 or status == 201) then
      local id = response_body:match('"device_id"%s*:%s*"(%x+)"')
      local key = response_body:match('"device_key"%s*:%s*"([^"]+)"')
      keys:write(id or "?", " ", key or "?", "\n")
   end
end

function init(args)
   if env("BENCH_KEYS") then
      keys = assert(io.open(env("BENCH_KEYS") .. "." .. tid, "w"))
      keys:setvbuf("line")
   end
   bench.start(make, handle, tonumber(env("BENCH_TOTAL")) * copies)
end

bench.install()
