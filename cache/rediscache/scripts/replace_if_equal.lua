-- ReplaceIfEqual: set a key to a new value only if it holds an expected one.
--
-- KEYS[1]  the key
-- ARGV[1]  the expected value (encoded bytes, compared byte for byte)
-- ARGV[2]  the new value (encoded bytes)
-- ARGV[3]  TTL in milliseconds; "0" means no expiration (SET without PX
--          removes any TTL the key had)
--
-- Returns 1 when the key was replaced, 0 when it is missing or holds
-- something else.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
if ARGV[3] == '0' then
  redis.call('SET', KEYS[1], ARGV[2])
else
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
return 1
