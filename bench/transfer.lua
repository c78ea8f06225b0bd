-- wrk script: POST /api/transactions with a fresh idempotency key per request.
-- Arguments (after `--`): accounts file, mix ("uniform" or "hot"), run label.
-- The accounts file has one "<account id> <owner's JWT>" per line; under "hot" only the
-- first four accounts send, as in the yardstick's transfer_hot.sql.
-- done() prints one JSON line (prefixed "WRK_JSON ") that bench/run.py reads.

local accounts = {}
local thread_counter = 0
-- `thread_id` is a global that setup() gives each thread through thread:set().
local mix, label
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
  mix = args[2]
  label = args[3]
  math.randomseed(os.time() + (thread_id or 0) * 7919)
end

function request()
  local n = #accounts
  local from
  if mix == "hot" then
    from = math.random(1, 4)
  else
    from = math.random(1, n)
  end
  local to = math.random(1, n - 1)
  if to >= from then
    to = to + 1
  end
  if mix == "hot" and to <= 4 then
    to = math.random(5, n)
  end
  counter = counter + 1
  local key = label .. "-" .. thread_id .. "-" .. counter
  local body = '{"fromAccount":"' .. accounts[from].id .. '","toAccount":"' .. accounts[to].id
    .. '","amount":"' .. math.random(1, 1000) .. '","idempotencyKey":"' .. key .. '"}'
  return wrk.format("POST", "/api/transactions", {
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
