-- Preloads a DynamoDB table in Aloft with BatchWriteItem (25 generated items per request)
-- over all of wrk's connections: the bench's Python loader managed ~6k items/s, this one
-- is bound by the server.
--
--   wrk -t2 -c16 -d600s -s bench/dynamodb_load.lua http://127.0.0.1:PORT/ -- TABLE FROM TO THREADS
--
-- Items k<FROM> .. k<TO-1> (keys of 8 digits, k00000042, as bench/dynamodb.sh reads them),
-- 5 attributes each. Batch b
-- (25 items from FROM + 25 b) belongs to thread b mod THREADS; a thread stops once every one
-- of its batches is answered, so wrk exits when the table is loaded (-d is only a ceiling).
-- A failed batch stops the run and done() prints it; the shell checks the item count too.

local threads = {}
local id = 0

function setup(thread)
  id = id + 1
  thread:set("tid", id)
  table.insert(threads, thread)
end

function init(args)
  tbl, from, to, nthreads = args[1], tonumber(args[2]), tonumber(args[3]), tonumber(args[4])
  batches = math.ceil((to - from) / 25)
  -- This thread's batches: tid-1, tid-1+nthreads, ...
  mine = 0
  if batches >= tid then mine = math.floor((batches - tid) / nthreads) + 1 end
  sent, answered, failed = 0, 0, ""
  -- wrk calls the first thread's request() once before the run to check it (and sends
  -- nothing): answer that call with a harmless request instead of a batch.
  if tid == 1 then sent = -1 end
  headers = {["X-Amz-Target"] = "DynamoDB_20120810.BatchWriteItem",
             ["Content-Type"] = "application/x-amz-json-1.0"}
  idle = wrk.format("POST", "/", {["X-Amz-Target"] = "DynamoDB_20120810.DescribeEndpoints",
                                  ["Content-Type"] = "application/x-amz-json-1.0"}, "{}")
end

local function item(i)
  return '{"PutRequest":{"Item":{"pk":{"S":"' .. string.format("k%08d", i) .. '"},"name":{"S":"a typical name"},'
    .. '"count":{"N":"' .. i .. '"},"flag":{"BOOL":true},"email":{"S":"user' .. i
    .. '@example.com"}}}}'
end

function request()
  if sent < 0 then
    sent = 0
    return idle
  end
  if sent >= mine then
    -- Other connections of this thread are still finishing: keep this one busy harmlessly.
    return idle
  end
  local b = tid - 1 + sent * nthreads
  sent = sent + 1
  local lo = from + b * 25
  local hi = math.min(lo + 25, to)
  local parts = {}
  for i = lo, hi - 1 do parts[#parts + 1] = item(i) end
  return wrk.format("POST", "/", headers,
    '{"RequestItems":{"' .. tbl .. '":[' .. table.concat(parts, ",") .. ']}}')
end

function response(status, hdrs, body)
  if body:find('"UnprocessedItems"', 1, true) then
    if status == 200 and body:find('"UnprocessedItems":{}', 1, true) then
      answered = answered + 1
    else
      failed = status .. " " .. body:sub(1, 200)
      wrk.thread:stop()
    end
  elseif status ~= 200 then
    failed = status .. " " .. body:sub(1, 200)
    wrk.thread:stop()
  end
  if answered >= mine then wrk.thread:stop() end
end

function done(summary, latency, requests)
  for _, t in ipairs(threads) do
    local f = t:get("failed")
    if f ~= "" then io.write("BatchWriteItem failed: " .. f .. "\n") end
    io.write(string.format("thread %d: %d of %d batches written\n",
      t:get("tid"), t:get("answered"), t:get("mine")))
  end
end
