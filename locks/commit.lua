-- Write a value only under a current fencing token (fence.lua is prepended).
-- KEYS[1]: fence key of the resource <prefix>fence:{R}
-- KEYS[2]: the sink key (must carry the same hash tag as KEYS[1])
-- ARGV[1]: the writer's fencing token
-- ARGV[2]: the value to write
-- ARGV[3]: TTL of the written value in ms, 0 for none
-- Returns {1, highest seen before} when written, {0, highest seen} when fenced.
local ttl = tonumber(ARGV[3])
local ok, seen = fanin_fence(KEYS[1], tonumber(ARGV[1]), ttl)
if not ok then
  return {0, seen}
end
if ttl > 0 then
  redis.call('SET', KEYS[2], ARGV[2], 'PX', ttl)
else
  redis.call('SET', KEYS[2], ARGV[2])
end
return {1, seen}
