-- Acquire a lock and issue its fencing token in one atomic step.
-- KEYS[1]: lock key           <prefix>lock:{R}
-- KEYS[2]: waiters marker key <prefix>lock:{R}:waiting
-- KEYS[3]: token counter key  <prefix>lock:{R}:token
-- ARGV[1]: owner id (random hex)
-- ARGV[2]: lock TTL in milliseconds (> 0)
-- ARGV[3]: token counter TTL in milliseconds, 0 for none
-- ARGV[4]: on failure, mark the lock as waited for during this many ms
--          (so its release is published); 0 not to mark it
-- Returns {1, token} when acquired (the lock holds the owner id, the counter
-- the token), {0, remaining PTTL of the holder's lock in ms} otherwise.
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  local token = redis.call('INCR', KEYS[3])
  if ARGV[3] ~= '0' then
    redis.call('PEXPIRE', KEYS[3], ARGV[3])
  end
  return {1, token}
end
if ARGV[4] ~= '0' then
  redis.call('SET', KEYS[2], '1', 'PX', ARGV[4])
end
return {0, redis.call('PTTL', KEYS[1])}
