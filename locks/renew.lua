-- Extend a lock held by the caller; never recreates an expired lock.
-- KEYS[1]: lock key
-- ARGV[1]: the caller's owner id
-- ARGV[2]: new TTL in milliseconds (> 0)
-- Returns 1 when extended, 0 when the lock is gone or has another owner.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
