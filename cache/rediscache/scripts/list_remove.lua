-- ListRemove (and ListAdd with an expired expiration): remove values from a
-- list whose values expire one by one, without touching the key's TTL.
--
-- KEYS[1]  the list (a sorted set scored by expiry time in unix ms)
-- ARGV[1...] the encoded values to remove
--
-- Expired values are purged first, so they are not counted.
-- Returns the number of live values removed.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)

local removed = 0
for i = 1, #ARGV, 1000 do
  local last = math.min(i + 999, #ARGV)
  removed = removed + redis.call('ZREM', KEYS[1], unpack(ARGV, i, last))
end
return removed
