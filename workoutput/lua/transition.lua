-- transition.lua moves a job from one state to another if it is in one of
-- the expected states (compare-and-set on meta.state).
--
-- KEYS[1] meta hash
-- ARGV[1] new state
-- ARGV[2 ..] states the job may be in
--
-- Returns 1 when the state changed, 0 when the job was already in the new
-- state. Errors: NOTFOUND, STATE <current state>.
local state = redis.call('HGET', KEYS[1], 'state')
if not state then
  return redis.error_reply('NOTFOUND')
end
if state == ARGV[1] then
  return 0
end
for i = 2, #ARGV do
  if state == ARGV[i] then
    redis.call('HSET', KEYS[1], 'state', ARGV[1])
    return 1
  end
end
return redis.error_reply('STATE ' .. state)
