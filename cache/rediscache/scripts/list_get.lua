-- GetList: read one page of the live values of a list whose values expire
-- one by one.
--
-- KEYS[1]  the list (a sorted set scored by expiry time in unix ms)
-- ARGV[1]  offset of the page (number of live values to skip)
-- ARGV[2]  page size; "-1" means every value from the offset on
--
-- Returns the encoded values whose expiry is after now (server clock), in
-- order of expiry, then value.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. string.format('%d', now), '+inf',
  'LIMIT', ARGV[1], ARGV[2])
