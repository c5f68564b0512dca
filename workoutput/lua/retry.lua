-- retry.lua puts the failed and missing events of a failed or partial job
-- back to work (the retry transition: the job runs again), keeping every
-- output. Each such event must have its payload kept (the payloads hash,
-- written with its failure by write.lua): the caller enqueues the events
-- again from there. Every check comes before the first write. Prepended with
-- the lifecycle prelude.
--
-- In mode "check" it only checks and answers; Store.Retry then indexes the
-- job due at its new deadline before it runs mode "apply", which moves it.
--
-- KEYS[1..11] the job's keys: meta, outputs, failures, events, result, adds,
--             fence, token counter, payloads, errors, ids
-- ARGV[1] mode: "check" or "apply"
-- ARGV[2] the retry's key: a retry of the same call carries the same
-- ARGV[3] the new deadline, Unix ms (apply)
-- ARGV[4] the safety margin in ms: every key expires at the new deadline +
--         the job's retention + this (apply)
--
-- Every retry applied is remembered by its key, in the meta field
-- "retry:<key>" = "<events put back> <the deadline it set>", for as long as
-- the job (the meta hash, with its TTL; kept in a tombstone too), so that a
-- call repeated after a lost reply is answered from there even after later
-- retries of the job. (Versions before kept only the last retry's key, in
-- meta.retrykey and meta.retryn: that one is still answered, and the next
-- retry applied moves it to its "retry:<key>" field.)
--
-- Returns {answer, events put back to work, allowance, deadline}: answer
-- "ok", or "again" for a call whose key is that of a retry applied before
-- (the first answer of that retry, the last or an earlier one: its events
-- and the deadline it set; nothing changed); allowance is the time in ms
-- the job was first given (its first deadline - its creation; kept in
-- meta.allowance by the first retry), which the caller adds to now for the
-- new deadline; deadline is the job's (the new one once applied). Errors:
-- NOTFOUND, STATE <state>, NOTRETAINED, UNSEALED, NOTHING (every event has
-- an output), NOPAYLOAD <events to retry> <payloads kept>.
local m = redis.call('HMGET', KEYS[1], 'state', 'sealed', 'retained', 'total', 'noutputs', 'retry:' .. ARGV[2],
  'retention', 'created', 'deadline', 'allowance', 'retrykey', 'retryn')
if not m[1] then
  return redis.error_reply('NOTFOUND')
end
local allowance = m[10] or tostring(tonumber(m[9]) - tonumber(m[8]))
if m[6] then
  local n, deadline = string.match(m[6], '^(%d+) (%d+)$')
  return {'again', tonumber(n), allowance, deadline}
end
if m[11] == ARGV[2] then -- the last retry of a version that kept only that one
  return {'again', tonumber(m[12]), allowance, m[9]}
end
if not fanin_allowed(m[1], 'retry', 'running') then
  return redis.error_reply('STATE ' .. m[1])
end
local outputs = redis.call('HLEN', KEYS[2])
if m[3] ~= '1' or tonumber(m[5] or '0') > outputs then
  return redis.error_reply('NOTRETAINED')
end
if m[2] ~= '1' then
  return redis.error_reply('UNSEALED')
end
local todo = tonumber(m[4]) - outputs
if todo <= 0 then
  return redis.error_reply('NOTHING')
end
local kept = redis.call('HLEN', KEYS[9])
if kept < todo then
  return redis.error_reply('NOPAYLOAD ' .. todo .. ' ' .. kept)
end
if ARGV[1] ~= 'apply' then
  return {'ok', todo, allowance, m[9]}
end
fanin_move(KEYS[1], m[1], 'retry', 'running')
redis.call('DEL', KEYS[3], KEYS[5], KEYS[10])
redis.call('HDEL', KEYS[1], 'completed', 'completedby', 'finished', 'error', 'noutputs', 'retained', 'keptfor', 'claimedfrom',
  'stalled', 'lasterr', 'lastfail')
local expires = tonumber(ARGV[3]) + tonumber(m[7] or '0') + tonumber(ARGV[4])
redis.call('HSET', KEYS[1], 'deadline', ARGV[3], 'expires', expires, 'retry:' .. ARGV[2], todo .. ' ' .. ARGV[3],
  'allowance', allowance)
if m[11] then -- the last retry of an earlier version: its deadline is the job's until now
  redis.call('HSET', KEYS[1], 'retry:' .. m[11], m[12] .. ' ' .. m[9])
  redis.call('HDEL', KEYS[1], 'retrykey', 'retryn')
end
redis.call('HINCRBY', KEYS[1], 'retries', 1)
for _, k in ipairs({KEYS[1], KEYS[2], KEYS[4], KEYS[6], KEYS[7], KEYS[8], KEYS[9], KEYS[11]}) do
  redis.call('PEXPIREAT', k, expires)
end
return {'ok', todo, allowance, ARGV[3]}
