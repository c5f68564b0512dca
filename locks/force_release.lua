-- Release a lock whoever holds it (an administrative release) and, when
-- someone waits, wake them.
-- KEYS[1]: lock key           <prefix>lock:{R}
-- KEYS[2]: waiters marker key <prefix>lock:{R}:waiting
-- ARGV[1]: release channel <prefix>lock:released
-- ARGV[2]: message "<provider id>:<resource>"
-- Returns 1 when a lock was released, 0 when none was held.
if redis.call('DEL', KEYS[1]) == 0 then
  return 0
end
if redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('PUBLISH', ARGV[1], ARGV[2])
end
return 1
