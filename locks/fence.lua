-- fanin_fence(key, token, ttl): the fence check, shared by every script that
-- writes under a fencing token (prepend this file to the script's body).
-- key:   the fence key of the resource (FenceKey), in the script's KEYS
-- token: the writer's fencing token (a number)
-- ttl:   how long, in ms, the fence must at least live; 0 for ever
-- Returns true, recording token as the highest seen, when token is at least
-- the highest seen; false, changing nothing, otherwise. The second result is
-- the highest token seen before the call (0 for none).
local function fanin_fence(key, token, ttl)
  local seen = tonumber(redis.call('GET', key) or '0')
  if token < seen then
    return false, seen
  end
  local pttl = redis.call('PTTL', key)
  if token > seen then
    redis.call('SET', key, string.format('%d', token), 'KEEPTTL')
  end
  if ttl == 0 then
    redis.call('PERSIST', key)
  elseif pttl ~= -1 and pttl < ttl then
    redis.call('PEXPIRE', key, ttl)
  end
  return true, seen
end
