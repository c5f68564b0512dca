-- claim.lua hands a job to the coordinator holding its lock: it checks the
-- fencing token and moves the job to collecting under that token, so writes
-- stop (write.lua ignores a collecting job) and only this token can commit.
-- Prepended with locks.FenceLua() (fanin_fence) and the lifecycle prelude.
--
-- KEYS[1] meta hash
-- KEYS[2] outputs hash
-- KEYS[3] fence key (locks.FenceKey of the job's lock resource)
-- ARGV[1] fencing token of the caller's lock
-- ARGV[2] mode: "collect" (from complete, from open or running past the
--         deadline, or from collecting whose previous holder lost its lock)
--         or "replay" (also from done, partial or failed, while retained)
-- ARGV[3] now, Unix ms
--
-- Returns the state the job was in. A retry by the same token gets the same
-- answer. Errors: NOTFOUND, STATE <state>, NOTRETAINED, FENCED <highest
-- token seen>.
local m = redis.call('HMGET', KEYS[1], 'state', 'deadline', 'retained', 'token', 'claimedfrom', 'noutputs')
local state = m[1]
if not state then
  return redis.error_reply('NOTFOUND')
end
if state == 'collecting' and m[4] == ARGV[1] then
  return m[5]
end
local name
if state == 'complete' then
  name = 'claim'
elseif state == 'collecting' then
  name = 'takeover'
elseif state == 'open' or state == 'running' then
  if tonumber(ARGV[3]) <= tonumber(m[2]) then
    return redis.error_reply('STATE ' .. state)
  end
  name = 'overdue'
elseif ARGV[2] == 'replay' and fanin_allowed(state, 'replay', 'collecting') then
  if m[3] ~= '1' or tonumber(m[6] or '0') > redis.call('HLEN', KEYS[2]) then
    return redis.error_reply('NOTRETAINED')
  end
  name = 'replay'
else
  return redis.error_reply('STATE ' .. state)
end
if not fanin_allowed(state, name, 'collecting') then
  return redis.error_reply('STATE ' .. state)
end
local fenced, seen = fanin_fence(KEYS[3], tonumber(ARGV[1]), math.max(redis.call('PTTL', KEYS[1]), 0))
if not fenced then
  return redis.error_reply('FENCED ' .. seen)
end
fanin_move(KEYS[1], state, name, 'collecting')
redis.call('HSET', KEYS[1], 'token', ARGV[1], 'claimed', ARGV[3], 'claimedfrom', state)
return state
