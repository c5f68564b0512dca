-- commit.lua commits a job's result, once: it checks the fencing token,
-- writes the result, moves the job to its final state and applies the
-- retention to every key of the job, all atomically. A coordinator whose
-- lock has passed to another holder carries an older token and is rejected.
-- Prepended with locks.FenceLua() (fanin_fence).
--
-- KEYS[1] meta hash
-- KEYS[2] outputs hash
-- KEYS[3] failures hash
-- KEYS[4] events set
-- KEYS[5] result string
-- KEYS[6] fence key (locks.FenceKey of the job's lock resource)
-- KEYS[7] the lock's fencing-token counter (it lives as long as the fence)
-- ARGV[1] fencing token of the caller's lock
-- ARGV[2] final state: done, partial or failed
-- ARGV[3] "1" when ARGV[4] is a result to store, "0" for none
-- ARGV[4] the result
-- ARGV[5] error text recorded in meta.error ("" clears it)
-- ARGV[6] retention in ms: every key expires that long after the commit;
--         0 deletes them all at once (UNLINK: freed in the background)
--
-- Returns the number of outputs the job has. Errors: NOTFOUND,
-- FENCED <highest token seen>, STATE <state>, OWNER <token of the claim>.
local m = redis.call('HMGET', KEYS[1], 'state', 'token')
if not m[1] then
  return redis.error_reply('NOTFOUND')
end
local fenced, seen = fanin_fence(KEYS[6], tonumber(ARGV[1]), 0)
if not fenced then
  return redis.error_reply('FENCED ' .. seen)
end
if m[1] ~= 'collecting' then
  return redis.error_reply('STATE ' .. m[1])
end
if m[2] ~= ARGV[1] then
  return redis.error_reply('OWNER ' .. (m[2] or 'none'))
end
local n = redis.call('HLEN', KEYS[2])
if ARGV[3] == '1' then
  redis.call('SET', KEYS[5], ARGV[4])
else
  redis.call('DEL', KEYS[5])
end
local t = redis.call('TIME')
redis.call('HSET', KEYS[1], 'state', ARGV[2], 'finished', t[1] * 1000 + math.floor(t[2] / 1000), 'noutputs', n)
if ARGV[5] == '' then
  redis.call('HDEL', KEYS[1], 'error')
else
  redis.call('HSET', KEYS[1], 'error', ARGV[5])
end
local retention = tonumber(ARGV[6])
if retention > 0 then
  for i = 1, #KEYS do
    redis.call('PEXPIRE', KEYS[i], retention)
  end
else
  redis.call('UNLINK', unpack(KEYS))
end
return n
