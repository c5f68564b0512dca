-- write.lua records the outcome of a chunk of events and checks completion,
-- all atomically.
--
-- Every event ID must be registered with the job, or the whole call is
-- rejected before anything is written, so no unregistered event is ever
-- counted: a caller-given ID must be in the events set; a generated ID
-- ("#" and a canonical base-36 sequence number, which Store.Write checks
-- before calling) must be below meta.seq, which the largest of them stands
-- for. Outputs are set idempotently (HSETNX: the first output of an event
-- wins, a redelivered event changes nothing) and remove an earlier failure
-- of the same event. A failure is recorded only for an event without
-- output. So the outputs and failures hashes stay disjoint and
-- HLEN(outputs) + HLEN(failures) counts each finished event once.
--
-- KEYS[1] meta hash
-- KEYS[2] outputs hash
-- KEYS[3] failures hash
-- KEYS[4] events set
-- ARGV[1] now, Unix ms
-- ARGV[2] the write's ID: a retry carries the same
-- ARGV[3] 1 + the largest sequence number among the generated IDs (0: none)
-- ARGV[4] the generated ID of that sequence number ("" for none)
-- ARGV[5] number n of outputs
-- ARGV[6] number g of outputs with caller-given IDs: the first g outputs
-- ARGV[7] number h of failures with caller-given IDs: the first h failures
-- ARGV[8 .. 7+2n] event ID, output, ...
-- ARGV[8+2n ..] event ID, encoded failure, ...
--
-- Returns 1 when this write completed the job (also for a retry of it while
-- the job is still complete), 0 when it did not, -1 when the job is neither
-- open, running nor complete (cancelled, collected) and nothing was written.
-- Errors: NOTFOUND, UNKNOWN <event ID>.
local m = redis.call('HMGET', KEYS[1], 'state', 'expires', 'seq', 'completedby', 'omax')
if not m[1] then
  return redis.error_reply('NOTFOUND')
end
if m[1] == 'complete' and m[4] == ARGV[2] then
  return 1
end
if m[1] ~= 'open' and m[1] ~= 'running' and m[1] ~= 'complete' then
  return -1
end
if tonumber(ARGV[3]) > tonumber(m[3]) then
  return redis.error_reply('UNKNOWN ' .. ARGV[4])
end
local n = tonumber(ARGV[5])
local last = 7 + 2 * n
local given = {}
for i = 8, 6 + 2 * tonumber(ARGV[6]), 2 do
  given[#given + 1] = ARGV[i]
end
for i = last + 1, last - 1 + 2 * tonumber(ARGV[7]), 2 do
  given[#given + 1] = ARGV[i]
end
for i = 1, #given, 1000 do
  local seen = redis.call('SMISMEMBER', KEYS[4], unpack(given, i, math.min(i + 999, #given)))
  for x = 1, #seen do
    if seen[x] == 0 then
      return redis.error_reply('UNKNOWN ' .. given[i + x - 1])
    end
  end
end
if n > 0 then
  local hadFailures = redis.call('EXISTS', KEYS[3]) == 1
  local bytes, omax = 0, tonumber(m[5] or '0')
  for i = 8, last, 2 do
    if redis.call('HSETNX', KEYS[2], ARGV[i], ARGV[i + 1]) == 1 then
      local size = #ARGV[i + 1]
      bytes = bytes + size
      if size > omax then
        omax = size
      end
      if hadFailures then
        redis.call('HDEL', KEYS[3], ARGV[i])
      end
    end
  end
  if redis.call('PTTL', KEYS[2]) == -1 then
    redis.call('PEXPIREAT', KEYS[2], m[2])
  end
  if bytes > 0 then
    redis.call('HINCRBY', KEYS[1], 'obytes', bytes)
    redis.call('HSET', KEYS[1], 'omax', omax)
  end
  redis.call('HDEL', KEYS[1], 'stalled')
end
if last < #ARGV then
  for i = last + 1, #ARGV, 2 do
    if redis.call('HEXISTS', KEYS[2], ARGV[i]) == 0 then
      redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 1])
    end
  end
  if redis.call('PTTL', KEYS[3]) == -1 then
    redis.call('PEXPIREAT', KEYS[3], m[2])
  end
end
return fanin_finish(KEYS[1], KEYS[2], KEYS[3], ARGV[2], ARGV[1])
