-- add.lua registers events of an open job. Atomic: either every event of the
-- call is registered or none is (a duplicate, a sealed job or a cap rejects
-- the whole call).
--
-- KEYS[1] meta hash
-- KEYS[2] events set (caller-given event IDs)
-- KEYS[3] adds hash (idempotency key -> first sequence number reserved)
-- KEYS[4] ids list (the caller-given event IDs in the order registered)
-- ARGV[1] maximum number of events of a job
-- ARGV[2] number of events with generated IDs
-- ARGV[3] idempotency key of the call ("" for none)
-- ARGV[4 ..] caller-given event IDs (already de-duplicated within the call)
--
-- Returns the first generated sequence number reserved. A retry with the
-- same idempotency key gets the same answer and registers nothing. Errors:
-- NOTFOUND, SEALED, STATE <state>, TOOMANY <events so far>, DUP <event ID>.
local m = redis.call('HMGET', KEYS[1], 'state', 'sealed', 'n', 'seq', 'expires')
if not m[1] then
  return redis.error_reply('NOTFOUND')
end
if ARGV[3] ~= '' then
  local first = redis.call('HGET', KEYS[3], ARGV[3])
  if first then
    return tonumber(first)
  end
end
if m[2] == '1' then
  return redis.error_reply('SEALED')
end
if m[1] ~= 'open' then
  return redis.error_reply('STATE ' .. m[1])
end
local gen = tonumber(ARGV[2])
local count = gen + #ARGV - 3
if tonumber(m[3]) + count > tonumber(ARGV[1]) then
  return redis.error_reply('TOOMANY ' .. m[3])
end
for i = 4, #ARGV, 1000 do
  local j = math.min(i + 999, #ARGV)
  local seen = redis.call('SMISMEMBER', KEYS[2], unpack(ARGV, i, j))
  for x = 1, #seen do
    if seen[x] == 1 then
      return redis.error_reply('DUP ' .. ARGV[i + x - 1])
    end
  end
end
if #ARGV > 3 then
  for i = 4, #ARGV, 1000 do
    redis.call('SADD', KEYS[2], unpack(ARGV, i, math.min(i + 999, #ARGV)))
    redis.call('RPUSH', KEYS[4], unpack(ARGV, i, math.min(i + 999, #ARGV)))
  end
  redis.call('PEXPIREAT', KEYS[2], m[5])
  redis.call('PEXPIREAT', KEYS[4], m[5])
end
redis.call('HINCRBY', KEYS[1], 'n', count)
if gen > 0 then
  redis.call('HINCRBY', KEYS[1], 'seq', gen)
end
if ARGV[3] ~= '' then
  redis.call('HSET', KEYS[3], ARGV[3], m[4])
  redis.call('PEXPIREAT', KEYS[3], m[5])
end
return tonumber(m[4])
