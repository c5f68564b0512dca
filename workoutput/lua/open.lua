-- open.lua creates a job. Atomic: the job exists with all its meta fields and
-- registered event IDs, or not at all. With seal, it is created running (the
-- seal transition) and, with 0 events, complete at once.
--
-- KEYS[1] meta hash
-- KEYS[2] events set (caller-given event IDs)
-- KEYS[3] outputs hash
-- KEYS[4] failures hash
-- KEYS[5] ids list (the caller-given event IDs in the order registered)
-- ARGV[1] now, Unix ms (the Store's clock, read just before this call)
-- ARGV[2] expiry of every key, Unix ms (the safety TTL)
-- ARGV[3] the job's deadline, Unix ms
-- ARGV[4] fingerprint of the request (everything but its times)
-- ARGV[5] "1" to seal the job at once, "0" to leave it open
-- ARGV[6] number k of meta arguments that follow (field, value, ...)
-- ARGV[7 .. 6+k] meta fields and values
-- ARGV[7+k ..] caller-given event IDs to register (already de-duplicated)
--
-- Returns 1 when the job was created complete, 0 otherwise. A retry of the
-- same request (same job ID and fingerprint) gets the same answer while the
-- job has not moved on. Errors: EXISTS (the job ID is taken by another
-- request), STATE <state> (a retry, but the job moved on: cancelled, say),
-- TOOLATE (the call arrives after the job's deadline: its index entry may be
-- gone).
local now = tonumber(ARGV[1])
if redis.call('EXISTS', KEYS[1]) == 1 then
  local m = redis.call('HMGET', KEYS[1], 'fingerprint', 'state', 'completedby')
  if m[1] ~= ARGV[4] then
    return redis.error_reply('EXISTS')
  end
  if not fanin_accepting(m[2]) then
    return redis.error_reply('STATE ' .. m[2])
  end
  return m[3] == 'open' and 1 or 0
end
if now > tonumber(ARGV[3]) then
  return redis.error_reply('TOOLATE')
end
-- A new job. An events set or ids list without meta is left by a job of
-- this ID that is gone (its keys share one expiry, and meta outlives the
-- others): none of it is this job's.
redis.call('DEL', KEYS[2], KEYS[5])
local k = tonumber(ARGV[6])
redis.call('HSET', KEYS[1], 'state', 'open', 'fingerprint', ARGV[4], unpack(ARGV, 7, 6 + k))
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
local first = 7 + k
if first <= #ARGV then
  for i = first, #ARGV, 1000 do
    redis.call('SADD', KEYS[2], unpack(ARGV, i, math.min(i + 999, #ARGV)))
    redis.call('RPUSH', KEYS[5], unpack(ARGV, i, math.min(i + 999, #ARGV)))
  end
  redis.call('PEXPIREAT', KEYS[2], ARGV[2])
  redis.call('PEXPIREAT', KEYS[5], ARGV[2])
end
if ARGV[5] ~= '1' then
  return 0
end
local n = redis.call('HGET', KEYS[1], 'n')
fanin_move(KEYS[1], 'open', 'seal', 'running')
redis.call('HSET', KEYS[1], 'sealed', '1', 'total', n)
return fanin_finish(KEYS[1], KEYS[3], KEYS[4], 'open', now)
