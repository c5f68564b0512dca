-- note.lua records failed attempts of events that will be retried (a
-- handler error, a timeout), so that status shows a job's first failure at
-- once and inspect --missing the attempts and last error of each event
-- still missing. The next output or failure of an event removes its note
-- (write.lua); Store.Retry removes them all. A job that is not accepting
-- events (collected, cancelled), or does not exist, is left alone: nothing
-- is written, so no key is created without its TTL.
--
-- KEYS[1] meta hash
-- KEYS[2] errors hash
-- ARGV[1] the last failed attempt, JSON with its event ID (meta.lasterr)
-- ARGV[2 ..] event ID, encoded failed attempt, ...
--
-- Returns 1 when the notes were recorded, 0 otherwise.
local m = redis.call('HMGET', KEYS[1], 'state', 'expires')
if m[1] ~= 'open' and m[1] ~= 'running' and m[1] ~= 'complete' then
  return 0
end
for i = 2, #ARGV, 2000 do
  redis.call('HSET', KEYS[2], unpack(ARGV, i, math.min(i + 1999, #ARGV)))
end
if redis.call('PTTL', KEYS[2]) == -1 then
  redis.call('PEXPIREAT', KEYS[2], m[2])
end
redis.call('HSET', KEYS[1], 'lasterr', ARGV[1])
return 1
