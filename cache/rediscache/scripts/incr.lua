-- Increment / IncrementFloat: add to a counter and set its expiration.
--
-- KEYS[1]  the counter
-- ARGV[1]  the amount, as decimal text
-- ARGV[2]  the mode:
--            "i"  INCRBY; the stored value must be an integer
--            "w"  a whole-number float amount: INCRBY, or INCRBYFLOAT when
--                 the stored value is a number that is not an integer
--            "f"  INCRBYFLOAT
-- ARGV[3]  TTL in milliseconds; "0" means no expiration (PERSIST)
--
-- Returns the new value: an integer after INCRBY (as text beyond 2^53,
-- where a Lua number, a double, would round it), decimal text after
-- INCRBYFLOAT. A stored value that is not a number is an error reply, and
-- nothing changes.
local v
if ARGV[2] == 'f' then
  v = redis.call('INCRBYFLOAT', KEYS[1], ARGV[1])
else
  v = redis.pcall('INCRBY', KEYS[1], ARGV[1])
  if type(v) == 'table' and v.err then
    if ARGV[2] == 'w' and string.find(v.err, 'not an integer', 1, true) then
      v = redis.call('INCRBYFLOAT', KEYS[1], ARGV[1])
    else
      return v
    end
  end
end
if ARGV[3] == '0' then
  redis.call('PERSIST', KEYS[1])
else
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
if type(v) == 'number' and (v >= 9007199254740992 or v <= -9007199254740992) then
  return redis.call('GET', KEYS[1])
end
return v
