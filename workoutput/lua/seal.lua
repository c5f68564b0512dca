-- seal.lua seals a job (the seal transition, open -> running): its total
-- becomes the number of events added so far, and no event can be added any
-- more. Atomic with the completion check, so a seal that arrives after the
-- last output still completes the job.
--
-- KEYS[1] meta hash
-- KEYS[2] outputs hash
-- KEYS[3] failures hash
-- ARGV[1] now, Unix ms
--
-- Returns 1 when the seal completed the job, 0 otherwise. Sealing a sealed
-- job changes nothing and gets the answer of the seal that sealed it.
-- Errors: NOTFOUND, STATE <state> (a job that was never sealed and has moved
-- on: cancelled, or claimed past its deadline).
local m = redis.call('HMGET', KEYS[1], 'state', 'sealed', 'n', 'completedby')
if not m[1] then
  return redis.error_reply('NOTFOUND')
end
if m[2] == '1' then
  return m[4] == 'seal' and 1 or 0
end
fanin_move(KEYS[1], m[1], 'seal', 'running')
redis.call('HSET', KEYS[1], 'sealed', '1', 'total', m[3])
return fanin_finish(KEYS[1], KEYS[2], KEYS[3], 'seal', ARGV[1])
