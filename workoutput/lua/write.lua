-- write.lua records the outcome of a chunk of events and checks completion,
-- all atomically.
--
-- Every event ID must be registered with the job (a generated ID below
-- meta.seq, or a caller-given ID in the events set); one that is not fails
-- the whole call before anything is written, so no unregistered event is
-- ever counted. Outputs are set idempotently (HSETNX: the first output of an
-- event wins, a redelivered event changes nothing) and remove an earlier
-- failure of the same event. A failure is recorded only for an event
-- without output. So the outputs and failures hashes stay disjoint and
-- HLEN(outputs) + HLEN(failures) counts each finished event once.
--
-- KEYS[1] meta hash
-- KEYS[2] outputs hash
-- KEYS[3] failures hash
-- KEYS[4] events set
-- ARGV[1] now, Unix ms
-- ARGV[2] the write's ID (a digest of its event IDs): a retry carries the same
-- ARGV[3] number n of outputs
-- ARGV[4 .. 3+2n] event ID, output, ...
-- ARGV[4+2n ..] event ID, encoded failure, ...
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
local seq = tonumber(m[3])
local given = {}
for i = 4, #ARGV, 2 do
  local id = ARGV[i]
  if string.byte(id, 1) == 35 then -- "#": a generated ID, canonical base 36
    local digits = string.sub(id, 2)
    local v = nil
    if string.find(digits, '^[0-9a-z]+$') and (#digits == 1 or string.byte(digits, 1) ~= 48) then
      v = tonumber(digits, 36)
    end
    if v == nil or v >= seq then
      return redis.error_reply('UNKNOWN ' .. id)
    end
  else
    given[#given + 1] = id
  end
end
for i = 1, #given, 1000 do
  local seen = redis.call('SMISMEMBER', KEYS[4], unpack(given, i, math.min(i + 999, #given)))
  for x = 1, #seen do
    if seen[x] == 0 then
      return redis.error_reply('UNKNOWN ' .. given[i + x - 1])
    end
  end
end
local n = tonumber(ARGV[3])
local last = 3 + 2 * n
if n > 0 then
  local hadFailures = redis.call('EXISTS', KEYS[3]) == 1
  local bytes, omax = 0, tonumber(m[5] or '0')
  for i = 4, last, 2 do
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
