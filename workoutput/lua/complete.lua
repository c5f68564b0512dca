-- complete.lua is prepended to every script that may finish a job.
--
-- complete(meta, outputs, failures) moves a job from open to complete when it
-- is sealed and every one of its events has an output or a failure
-- (HLEN(outputs) + HLEN(failures) >= total; the two hashes are kept
-- disjoint). It returns 1 only for the call that makes the move, 0 otherwise,
-- so completion is reported exactly once however often events are delivered.
local function complete(meta, outputs, failures)
  local m = redis.call('HMGET', meta, 'state', 'sealed', 'total')
  if m[1] ~= 'open' or m[2] ~= '1' then
    return 0
  end
  if redis.call('HLEN', outputs) + redis.call('HLEN', failures) < tonumber(m[3]) then
    return 0
  end
  local t = redis.call('TIME')
  redis.call('HSET', meta, 'state', 'complete', 'completed', t[1] * 1000 + math.floor(t[2] / 1000))
  return 1
end
