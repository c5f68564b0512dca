-- open.lua creates a job. Atomic: the job exists with all its meta fields and
-- registered event IDs, or not at all; a job sealed with 0 events is complete
-- at once.
--
-- KEYS[1] meta hash
-- KEYS[2] events set (caller-given event IDs)
-- KEYS[3] outputs hash
-- KEYS[4] failures hash
-- ARGV[1] expiry of every key, Unix ms (the safety TTL)
-- ARGV[2] number k of meta arguments that follow (field, value, ...)
-- ARGV[3 .. 2+k] meta fields and values
-- ARGV[3+k ..] caller-given event IDs to register (already de-duplicated)
--
-- Returns 1 when the job was created complete, 0 otherwise; error EXISTS when
-- the job ID is taken.
if redis.call('EXISTS', KEYS[1]) == 1 then
  return redis.error_reply('EXISTS')
end
local k = tonumber(ARGV[2])
redis.call('HSET', KEYS[1], unpack(ARGV, 3, 2 + k))
redis.call('PEXPIREAT', KEYS[1], ARGV[1])
local first = 3 + k
if first <= #ARGV then
  for i = first, #ARGV, 1000 do
    redis.call('SADD', KEYS[2], unpack(ARGV, i, math.min(i + 999, #ARGV)))
  end
  redis.call('PEXPIREAT', KEYS[2], ARGV[1])
end
return complete(KEYS[1], KEYS[3], KEYS[4])
