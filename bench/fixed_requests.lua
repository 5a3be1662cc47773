-- wrk script: send a fixed list of requests, one connection per wrk thread.
--
--   wrk -t N -c N -d <limit> -s bench/fixed_requests.lua <url> -- <prefix>
--
-- Thread n reads its requests from <prefix>.<n>.req (one a line:
-- method TAB path TAB cookie TAB body), sends each once, in order, timing every
-- request with the monotonic clock, and writes <prefix>.<n>.out when the last
-- reply has arrived: its first send and last reply (µs), its own CPU time,
-- the status codes, and one latency (µs) a line. With one connection per
-- thread there is never more than one request in flight, so each reply
-- belongs to the request sent just before it. bench/common.py stops wrk once
-- every thread has written its file, so wrk's own duration does not matter.

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clock_id, bench_timespec *tp);
]]
local CLOCK_MONOTONIC, CLOCK_THREAD_CPUTIME_ID = 1, 3
local ts = ffi.new("bench_timespec")

local function micros(clock)
  ffi.C.clock_gettime(clock, ts)
  return tonumber(ts.tv_sec) * 1000000 + math.floor(tonumber(ts.tv_nsec) / 1000)
end

local thread_counter = 0

function setup(thread)
  thread:set("thread_number", thread_counter)
  thread_counter = thread_counter + 1
end

local requests, total = {}, 0
local replied, extra = 0, 0
local first_send, cpu_start, sent_at
local latencies, statuses = {}, {}
local out_path

function init(args)
  local prefix = args[1]
  local file = assert(io.open(prefix .. "." .. thread_number .. ".req", "r"))
  for line in file:lines() do
    local method, path, cookie, body = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
    local headers = { ["User-Agent"] = "feedback-bench" }
    if cookie ~= "" then headers["Cookie"] = cookie end
    if method == "POST" then headers["Content-Type"] = "application/x-www-form-urlencoded" end
    total = total + 1
    requests[total] = wrk.format(method, path, headers, body ~= "" and body or nil)
  end
  file:close()
  out_path = prefix .. "." .. thread_number .. ".out"
end

function request()
  -- The next request is always the one after the last reply: wrk calls
  -- request() once more before the threads start (to check the script), and
  -- again after a reconnect; neither may skip or repeat a request.
  if replied >= total then
    -- Never expected (the thread stops after its last reply); counted, so the
    -- harness refuses the run instead of counting a repeat as work.
    extra = extra + 1
    return requests[total]
  end
  sent_at = micros(CLOCK_MONOTONIC)
  if replied == 0 then
    first_send = sent_at
    cpu_start = micros(CLOCK_THREAD_CPUTIME_ID)
  end
  return requests[replied + 1]
end

function response(status, headers, body)
  local now = micros(CLOCK_MONOTONIC)
  replied = replied + 1
  latencies[replied] = now - sent_at
  statuses[status] = (statuses[status] or 0) + 1
  if replied == total then
    local cpu = micros(CLOCK_THREAD_CPUTIME_ID) - cpu_start
    local tmp = out_path .. ".tmp"
    local file = assert(io.open(tmp, "w"))
    file:write("start ", first_send, "\nend ", now, "\ncpu ", cpu, "\nextra ", extra, "\n")
    for code, count in pairs(statuses) do file:write("status ", code, " ", count, "\n") end
    file:write("latencies\n", table.concat(latencies, "\n"), "\n")
    file:close()
    os.rename(tmp, out_path)
    wrk.thread:stop()
  end
end
