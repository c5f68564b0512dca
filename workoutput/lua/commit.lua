-- commit.lua commits a job's result, once: it checks that the caller's token
-- is the one that claimed the job, that the final state is true to the
-- job's events, writes the result, moves the job to its final state and
-- applies the retention to every key of the job, all atomically. Every check
-- comes before the first write, and nothing here raises the fence: a token
-- that never claimed the job changes nothing.
-- Prepended with the lifecycle prelude.
--
-- KEYS[1] meta hash
-- KEYS[2] outputs hash
-- KEYS[3] failures hash
-- KEYS[4] events set
-- KEYS[5] result string
-- KEYS[6] adds hash
-- KEYS[7] fence key (locks.FenceKey of the job's lock resource)
-- KEYS[8] the lock's fencing-token counter (it lives as long as the fence)
-- KEYS[9] payloads hash (of failed events, for a retry)
-- KEYS[10] errors hash (failed attempts of events being retried)
-- KEYS[11] ids list (caller-given event IDs in the order registered)
-- ARGV[1] fencing token of the caller's claim
-- ARGV[2] final state: done, partial or failed
-- ARGV[3] "1" when ARGV[4] is a result to store, "0" for none
-- ARGV[4] the result
-- ARGV[5] error text recorded in meta.error ("" clears it)
-- ARGV[6] retention in ms: every key expires that long after the commit;
--         0 deletes the job's data at once and keeps meta and result as a
--         tombstone (see fanin_retain)
-- ARGV[7] tombstone in ms: how long meta, fence and token counter outlive
--         data deleted at once
-- ARGV[8] now, Unix ms
--
-- Returns the number of outputs the job has. A retry by the same token gets
-- the same answer. Errors: NOTFOUND, STATE <state> (never claimed, or not
-- collecting), OWNER <token of the last claim> (another token claimed the
-- job: the caller lost it), FENCED <highest token seen>, OUTCOME <why the
-- final state is not true>.
local m = redis.call('HMGET', KEYS[1], 'state', 'token', 'sealed', 'total', 'noutputs')
if not m[1] then
  return redis.error_reply('NOTFOUND')
end
if m[2] == ARGV[1] and m[1] == ARGV[2] then
  return tonumber(m[5])
end
if not m[2] then
  return redis.error_reply('STATE ' .. m[1] .. ', never claimed')
end
if m[2] ~= ARGV[1] then
  return redis.error_reply('OWNER ' .. m[2])
end
if m[1] ~= 'collecting' then
  return redis.error_reply('STATE ' .. m[1])
end
local seen = tonumber(redis.call('GET', KEYS[7]) or '0')
if seen > tonumber(ARGV[1]) then
  return redis.error_reply('FENCED ' .. seen)
end
if not fanin_allowed('collecting', 'commit', ARGV[2]) then
  return redis.error_reply('STATE collecting')
end
local n = redis.call('HLEN', KEYS[2])
local f = redis.call('HLEN', KEYS[3])
local total = tonumber(m[4])
local whole = m[3] == '1' and f == 0 and n >= total
if ARGV[2] == 'done' and not whole then
  return redis.error_reply(string.format('OUTCOME done needs every event of a sealed job to have an output: sealed %s, %d of %d outputs, %d failed', m[3], n, total, f))
end
if ARGV[2] == 'partial' and whole then
  return redis.error_reply(string.format('OUTCOME partial needs a failed or missing event: all %d events have outputs', total))
end
fanin_move(KEYS[1], 'collecting', 'commit', ARGV[2])
if ARGV[3] == '1' then
  redis.call('SET', KEYS[5], ARGV[4])
else
  redis.call('DEL', KEYS[5])
end
local retention = tonumber(ARGV[6])
redis.call('HSET', KEYS[1], 'finished', ARGV[8], 'noutputs', n, 'retained', retention > 0 and '1' or '0', 'keptfor', retention)
if ARGV[5] == '' then
  redis.call('HDEL', KEYS[1], 'error')
else
  redis.call('HSET', KEYS[1], 'error', ARGV[5])
end
fanin_retain({KEYS[1], KEYS[5], KEYS[7], KEYS[8]}, {KEYS[2], KEYS[3], KEYS[4], KEYS[6], KEYS[9], KEYS[10], KEYS[11]}, retention, tonumber(ARGV[7]))
return n
