-- claim.lua hands a job to the coordinator holding its lock: it checks the
-- fencing token and moves the job to collecting under that token, so writes
-- stop (write.lua ignores a collecting job) and only this token can commit.
-- Prepended with locks.FenceLua() (fanin_fence).
--
-- KEYS[1] meta hash
-- KEYS[2] outputs hash
-- KEYS[3] fence key (locks.FenceKey of the job's lock resource)
-- ARGV[1] fencing token of the caller's lock
-- ARGV[2] mode: "collect" (from complete, from open past the deadline, or
--         from collecting whose previous holder lost its lock) or "replay"
--         (also from done, partial or failed, if the outputs are retained)
--
-- Returns the state the job was in. Errors: NOTFOUND, STATE <state>,
-- NOTRETAINED, FENCED <highest token seen>.
local m = redis.call('HMGET', KEYS[1], 'state', 'deadline', 'noutputs')
local state = m[1]
if not state then
  return redis.error_reply('NOTFOUND')
end
local ok = state == 'complete' or state == 'collecting'
if state == 'open' then
  local t = redis.call('TIME')
  ok = t[1] * 1000 + math.floor(t[2] / 1000) > tonumber(m[2])
elseif ARGV[2] == 'replay' and (state == 'done' or state == 'partial' or state == 'failed') then
  if tonumber(m[3] or '0') > redis.call('HLEN', KEYS[2]) then
    return redis.error_reply('NOTRETAINED')
  end
  ok = true
end
if not ok then
  return redis.error_reply('STATE ' .. state)
end
local ttl = redis.call('PTTL', KEYS[1])
local fenced, seen = fanin_fence(KEYS[3], tonumber(ARGV[1]), math.max(ttl, 0))
if not fenced then
  return redis.error_reply('FENCED ' .. seen)
end
local t = redis.call('TIME')
redis.call('HSET', KEYS[1], 'state', 'collecting', 'token', ARGV[1], 'claimed', t[1] * 1000 + math.floor(t[2] / 1000))
return state
