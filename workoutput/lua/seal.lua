-- seal.lua seals a job: its total becomes the number of events added so far,
-- and no event can be added any more. Atomic with the completion check, so a
-- seal that arrives after the last output still completes the job.
-- Sealing a sealed job changes nothing.
--
-- KEYS[1] meta hash
-- KEYS[2] outputs hash
-- KEYS[3] failures hash
--
-- Returns 1 when the seal completed the job, 0 otherwise. Errors: NOTFOUND,
-- STATE <state> (for example a cancelled job).
local m = redis.call('HMGET', KEYS[1], 'state', 'sealed', 'n')
if not m[1] then
  return redis.error_reply('NOTFOUND')
end
if m[2] == '1' then
  return 0
end
if m[1] ~= 'open' then
  return redis.error_reply('STATE ' .. m[1])
end
redis.call('HSET', KEYS[1], 'sealed', '1', 'total', m[3])
return complete(KEYS[1], KEYS[2], KEYS[3])
