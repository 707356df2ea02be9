-- wrk script for bench_assistance: an agency's system drafting and sending requests over the API.
-- Each thread POSTs a draft (with an Idempotency-Key of its own) and, as soon as a draft's 201 arrives, POSTs its
-- send/ on the next free connection, so creates and sends alternate at the same rate on every connection.
-- Arguments (after --): API key, kind code, receiver agency id, the kind's fields as JSON, a nonce unique per run.
-- Prints one JSON line: wrk's figures as wrk_stats.lua reports them, plus how many drafts were created and sent and
-- how many answers were neither (a benchmark of failures is refused).
local threads = {}

function setup(thread)
  thread:set("thread_id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  token, kind, receiver, fields, nonce = args[1], args[2], args[3], args[4], args[5]
  creates, sends, failures, counter = 0, 0, 0, 0
  pending = {}
  last_failure = ""
end

local function headers(key)
  local h = { ["Authorization"] = "Api-Key " .. token, ["Content-Type"] = "application/json" }
  if key then
    h["Idempotency-Key"] = key
  end
  return h
end

function request()
  local pk = table.remove(pending)
  if pk then
    return wrk.format("POST", "/api/v1/assistance-requests/" .. pk .. "/send/", headers(nil), "")
  end
  counter = counter + 1
  local body = string.format(
    '{"kind": "%s", "receiver": %s, "title": "基准协查函 %s-%d-%d", "case_number": "（2026）川公协%d号", '
      .. '"parties": "张某某", "fields": %s}',
    kind, receiver, nonce, thread_id, counter, counter, fields)
  return wrk.format("POST", "/api/v1/assistance-requests/", headers(string.format("bench-%s-%d-%d", nonce,
    thread_id, counter)), body)
end

function response(status, _headers, body)
  if status == 201 then
    local pk = body:match('"id":%s*(%d+)')
    if pk then
      creates = creates + 1
      table.insert(pending, pk)
      return
    end
  elseif status == 200 and body:find('"status":%s*"sent"') then
    sends = sends + 1
    return
  end
  failures = failures + 1
  last_failure = status .. " " .. string.gsub(string.sub(body, 1, 300), "[^%w%p ]", "?")
end

done = function(summary, latency, requests)
  local c, s, f, last = 0, 0, 0, ""
  for _, thread in ipairs(threads) do
    c = c + thread:get("creates")
    s = s + thread:get("sends")
    f = f + thread:get("failures")
    if thread:get("last_failure") ~= "" then
      last = thread:get("last_failure")
    end
  end
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_s": %.3f, "rps": %.2f, "p50_ms": %.3f, "p95_ms": %.3f, "p99_ms": %.3f, '
      .. '"max_ms": %.3f, "non_2xx": %d, "connect_errors": %d, "read_errors": %d, "write_errors": %d, '
      .. '"timeouts": %d, "creates": %d, "sends": %d, "failures": %d, "last_failure": %q}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1e3, latency:percentile(95) / 1e3, latency:percentile(99) / 1e3,
    latency.max / 1e3, e.status, e.connect, e.read, e.write, e.timeout, c, s, f, last))
end
