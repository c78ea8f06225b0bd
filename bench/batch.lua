-- wrk script: POST /api/transactions/batch with a fresh idempotency key per request.
-- Arguments (after `--`): accounts file, items per batch, run label.
-- The accounts file has one "<account id> <owner's JWT>" per line. Each batch sends from one
-- random account (its owner's token) to `size` random other accounts.
-- done() prints one JSON line (prefixed "WRK_JSON ") that bench/run.py reads; each request
-- carries `size` transfers.

local accounts = {}
local thread_counter = 0
local size, label
local counter = 0

local function load(path)
  local rows = {}
  for line in io.lines(path) do
    local id, token = line:match("^(%S+) (%S+)$")
    if id then
      rows[#rows + 1] = { id = id, auth = "Bearer " .. token }
    end
  end
  return rows
end

function setup(thread)
  thread_counter = thread_counter + 1
  thread:set("thread_id", thread_counter)
end

function init(args)
  accounts = load(args[1])
  size = tonumber(args[2])
  label = args[3]
  math.randomseed(os.time() + (thread_id or 0) * 7919)
end

function request()
  local n = #accounts
  local from = math.random(1, n)
  local items = {}
  for i = 1, size do
    local to = math.random(1, n - 1)
    if to >= from then
      to = to + 1
    end
    items[i] = '{"fromAccount":"' .. accounts[from].id .. '","toAccount":"' .. accounts[to].id
      .. '","amount":"' .. math.random(1, 1000) .. '"}'
  end
  counter = counter + 1
  local key = label .. "-" .. thread_id .. "-" .. counter
  local body = '{"idempotencyKey":"' .. key .. '","transfers":[' .. table.concat(items, ",") .. ']}'
  return wrk.format("POST", "/api/transactions/batch", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = accounts[from].auth,
  }, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"connect_errors":%d,"read_errors":%d,'
      .. '"write_errors":%d,"status_errors":%d,"timeouts":%d,'
      .. '"p50_us":%d,"p95_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max,
    latency.mean))
end
