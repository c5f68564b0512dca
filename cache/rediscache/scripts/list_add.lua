-- ListAdd: add values to a list whose values expire one by one.
--
-- The list is a sorted set: member = encoded value, score = the value's
-- expiry time in unix milliseconds (server clock), or the "never" score.
--
-- KEYS[1]  the list
-- ARGV[1]  TTL of the added values in milliseconds; "0" means they never
--          expire
-- ARGV[2]  the score meaning "never expires" (2^53-1)
-- ARGV[3...] the encoded values
--
-- Removes the values that have expired, adds (or re-dates) the given ones,
-- then makes the key live exactly as long as its longest-lived value
-- (PEXPIREAT the highest score, or PERSIST when a value never expires).
-- Returns the number of values that were not in the list.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local never = tonumber(ARGV[2])
local ttl = tonumber(ARGV[1])
local score = ARGV[2]
if ttl > 0 and now + ttl < never then
  score = string.format('%d', now + ttl)
end

redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)

local added = 0
local args = {}
for i = 3, #ARGV do
  args[#args + 1] = score
  args[#args + 1] = ARGV[i]
  if #args >= 1000 then
    added = added + redis.call('ZADD', KEYS[1], unpack(args))
    args = {}
  end
end
if #args > 0 then
  added = added + redis.call('ZADD', KEYS[1], unpack(args))
end

local top = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if top[2] ~= nil then
  local max = tonumber(top[2])
  if max >= never then
    redis.call('PERSIST', KEYS[1])
  else
    redis.call('PEXPIREAT', KEYS[1], string.format('%d', max))
  end
end
return added
