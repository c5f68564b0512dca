-- RemoveIfEqual: delete a key only if it holds an expected value.
--
-- KEYS[1]  the key
-- ARGV[1]  the expected value (encoded bytes, compared byte for byte)
--
-- Returns 1 when the key was deleted, 0 when it is missing or holds
-- something else.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
return redis.call('UNLINK', KEYS[1])
