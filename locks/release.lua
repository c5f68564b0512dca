-- Release a lock held by the caller and, when someone waits, wake them.
-- KEYS[1]: lock key           <prefix>lock:{R}
-- KEYS[2]: waiters marker key <prefix>lock:{R}:waiting
-- ARGV[1]: the caller's owner id
-- ARGV[2]: release channel <prefix>lock:released
-- ARGV[3]: message "<provider id>:<resource>"
-- Returns 1 when released, 0 when the lock is gone or has another owner
-- (nothing is deleted or published then).
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
redis.call('DEL', KEYS[1])
if redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('PUBLISH', ARGV[2], ARGV[3])
end
return 1
