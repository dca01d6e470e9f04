-- wrk script: POST one JSON body per request, read from a file, one per line.
-- Arguments after "--": BODIES_FILE THREADS ORIGIN MODE
--   MODE "once":  every body is sent at most once (each call needs a fresh nonce
--                 and captcha); a thread that runs out stops and reports it.
--   MODE "cycle": bodies are reused (the baseline endpoint does not care).
-- done() prints one line "RESULT {json}" that benchmarks/run.py parses.

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  local path, nthreads = args[1], tonumber(args[2])
  mode = args[4]
  bodies = {}
  local line_no = 0
  for line in io.lines(path) do
    if line_no % nthreads == id then
      bodies[#bodies + 1] = line
    end
    line_no = line_no + 1
  end
  position = 0
  exhausted = false
  statuses = {}
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Origin"] = args[3]
end

function request()
  position = position + 1
  if position > #bodies then
    if mode == "cycle" then
      position = 1
    else
      exhausted = true
      wrk.thread:stop()
      position = #bodies
    end
  end
  return wrk.format(nil, nil, nil, bodies[position])
end

function response(status, headers, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
end

function done(summary, latency, requests)
  local counts, ran_out = {}, false
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses") or {}) do
      counts[status] = (counts[status] or 0) + n
    end
    ran_out = ran_out or thread:get("exhausted")
  end
  local parts = {}
  for status, n in pairs(counts) do
    parts[#parts + 1] = string.format('"%s": %d', status, n)
  end
  local e = summary.errors
  io.write(string.format(
    'RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, ' ..
    '"socket_errors": %d, "exhausted": %s, "statuses": {%s}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, tostring(ran_out), table.concat(parts, ", ")))
end
