-- cancel.lua cancels a job that is not finished (the cancel transition) and
-- applies the job's retention to its keys at once, as a commit does: a
-- cancelled job's outputs stay for its retention, not for the whole safety
-- TTL. Prepended with the lifecycle prelude.
--
-- KEYS[1..11] the job's keys, as for commit.lua: meta, outputs, failures,
--             events, result, adds, fence, token counter, payloads, errors,
--             ids
-- ARGV[1] now, Unix ms
-- ARGV[2] tombstone in ms (see fanin_retain)
--
-- Returns 1 when the job was cancelled, 0 when it already was. Errors:
-- NOTFOUND, STATE <state> (already collected or being collected).
local m = redis.call('HMGET', KEYS[1], 'state', 'retention')
if not m[1] then
  return redis.error_reply('NOTFOUND')
end
if m[1] == 'cancelled' then
  return 0
end
fanin_move(KEYS[1], m[1], 'cancel', 'cancelled')
local retention = tonumber(m[2] or '0')
redis.call('HSET', KEYS[1], 'finished', ARGV[1], 'retained', retention > 0 and '1' or '0', 'keptfor', retention)
fanin_retain({KEYS[1], KEYS[5], KEYS[7], KEYS[8]}, {KEYS[2], KEYS[3], KEYS[4], KEYS[6], KEYS[9], KEYS[10], KEYS[11]}, retention, tonumber(ARGV[2]))
return 1
