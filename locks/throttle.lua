-- Count one hit of a throttled resource in the current period, on the
-- server's clock, unless the period is full.
-- KEYS[1]: throttle key <prefix>throttle:{R}, a hash {p: period index, n: hits}
-- ARGV[1]: maximum hits per period
-- ARGV[2]: period in milliseconds
-- ARGV[3]: '1' to count a hit, '0' only to look
-- Returns {1, hits after the call, ms until the next period} when allowed,
-- {0, hits, ms until the next period} when the period is full.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local period = tonumber(ARGV[2])
local index = math.floor(now / period)
local wait = (index + 1) * period - now
local cur = redis.call('HMGET', KEYS[1], 'p', 'n')
local hits = 0
if cur[1] and tonumber(cur[1]) == index then
  hits = tonumber(cur[2])
end
if hits >= tonumber(ARGV[1]) then
  return {0, hits, wait}
end
if ARGV[3] == '1' then
  hits = hits + 1
  redis.call('HSET', KEYS[1], 'p', string.format('%d', index), 'n', hits)
  redis.call('PEXPIRE', KEYS[1], wait)
end
return {1, hits, wait}
