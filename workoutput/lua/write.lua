-- write.lua records the outcome of a chunk of events and checks completion,
-- all atomically.
--
-- Outputs are set idempotently (HSETNX: the first output of an event wins, a
-- redelivered event changes nothing) and remove an earlier failure of the
-- same event. A failure is recorded only for an event without output. So the
-- outputs and failures hashes stay disjoint and HLEN(outputs) +
-- HLEN(failures) counts each finished event once.
--
-- KEYS[1] meta hash
-- KEYS[2] outputs hash
-- KEYS[3] failures hash
-- ARGV[1] number n of outputs
-- ARGV[2 .. 1+2n] event ID, output, ...
-- ARGV[2+2n ..] event ID, encoded failure, ...
--
-- Returns 1 when this call completed the job, 0 when it did not, -1 when the
-- job is neither open nor complete (cancelled, collected) and nothing was
-- written. Error: NOTFOUND.
local m = redis.call('HMGET', KEYS[1], 'state', 'expires')
if not m[1] then
  return redis.error_reply('NOTFOUND')
end
if m[1] ~= 'open' and m[1] ~= 'complete' then
  return -1
end
local n = tonumber(ARGV[1])
local last = 1 + 2 * n
if n > 0 then
  local hadFailures = redis.call('EXISTS', KEYS[3]) == 1
  for i = 2, last, 2 do
    if redis.call('HSETNX', KEYS[2], ARGV[i], ARGV[i + 1]) == 1 and hadFailures then
      redis.call('HDEL', KEYS[3], ARGV[i])
    end
  end
  if redis.call('PTTL', KEYS[2]) == -1 then
    redis.call('PEXPIREAT', KEYS[2], m[2])
  end
end
if last < #ARGV then
  for i = last + 1, #ARGV, 2 do
    if redis.call('HEXISTS', KEYS[2], ARGV[i]) == 0 then
      redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 1])
    end
  end
  if redis.call('PTTL', KEYS[3]) == -1 then
    redis.call('PEXPIREAT', KEYS[3], m[2])
  end
end
return complete(KEYS[1], KEYS[2], KEYS[3])
