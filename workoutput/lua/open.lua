-- open.lua creates a job. Atomic: the job exists with all its meta fields and
-- registered event IDs, or not at all. With seal, it is created running (the
-- seal transition) and, with 0 events, complete at once.
--
-- The caller-given event IDs come either as arguments (a small batch) or
-- staged by the caller in a set and a list of this call's own (a large one:
-- Store.Open's stageIDs, in pieces that never hold Redis for long), which
-- are renamed into the job's events set and ids list once their sizes show
-- that every ID arrived, each once. The staged keys are deleted whatever
-- the answer.
--
-- KEYS[1] meta hash
-- KEYS[2] events set (caller-given event IDs)
-- KEYS[3] outputs hash
-- KEYS[4] failures hash
-- KEYS[5] ids list (the caller-given event IDs in the order registered)
-- KEYS[6] staged events set of this call (exists only when ARGV[6] > 0)
-- KEYS[7] staged ids list of this call (exists only when ARGV[6] > 0)
-- ARGV[1] now, Unix ms (the Store's clock, read just before this call)
-- ARGV[2] expiry of every key, Unix ms (the safety TTL)
-- ARGV[3] the job's deadline, Unix ms
-- ARGV[4] fingerprint of the request (everything but its times)
-- ARGV[5] "1" to seal the job at once, "0" to leave it open
-- ARGV[6] number of caller-given event IDs staged in KEYS[6] and KEYS[7]
--         ("0": none staged, they follow the meta arguments)
-- ARGV[7] number k of meta arguments that follow (field, value, ...)
-- ARGV[8 .. 7+k] meta fields and values
-- ARGV[8+k ..] caller-given event IDs to register (already de-duplicated),
--              when none are staged
--
-- Returns 1 when the job was created complete, 0 otherwise. A retry of the
-- same request (same job ID and fingerprint) gets the same answer while the
-- job has not moved on. Errors: EXISTS (the job ID is taken by another
-- request), STATE <state> (a retry, but the job moved on: cancelled, say),
-- TOOLATE (the call arrives after the job's deadline: its index entry may be
-- gone), STAGED (the staged IDs are not the number announced, each once:
-- a piece was lost or sent twice; stage them again).
local now = tonumber(ARGV[1])
local staged = tonumber(ARGV[6])
local exists = redis.call('EXISTS', KEYS[1]) == 1
-- The staged keys are kept only to become the new job's, complete.
local usable = staged > 0 and not exists and now <= tonumber(ARGV[3])
  and redis.call('SCARD', KEYS[6]) == staged and redis.call('LLEN', KEYS[7]) == staged
if staged > 0 and not usable then
  redis.call('DEL', KEYS[6], KEYS[7])
end
if exists then
  local m = redis.call('HMGET', KEYS[1], 'fingerprint', 'state', 'completedby')
  if m[1] ~= ARGV[4] then
    return redis.error_reply('EXISTS')
  end
  if not fanin_accepting(m[2]) then
    return redis.error_reply('STATE ' .. m[2])
  end
  return m[3] == 'open' and 1 or 0
end
if now > tonumber(ARGV[3]) then
  return redis.error_reply('TOOLATE')
end
if staged > 0 and not usable then
  return redis.error_reply('STAGED')
end
-- A new job. An events set or ids list without meta is left by a job of
-- this ID that is gone (its keys share one expiry, and meta outlives the
-- others): none of it is this job's.
redis.call('DEL', KEYS[2], KEYS[5])
local k = tonumber(ARGV[7])
redis.call('HSET', KEYS[1], 'state', 'open', 'fingerprint', ARGV[4], unpack(ARGV, 8, 7 + k))
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
local first = 8 + k
if staged > 0 then
  redis.call('RENAME', KEYS[6], KEYS[2])
  redis.call('RENAME', KEYS[7], KEYS[5])
  redis.call('PEXPIREAT', KEYS[2], ARGV[2])
  redis.call('PEXPIREAT', KEYS[5], ARGV[2])
elseif first <= #ARGV then
  for i = first, #ARGV, 1000 do
    redis.call('SADD', KEYS[2], unpack(ARGV, i, math.min(i + 999, #ARGV)))
    redis.call('RPUSH', KEYS[5], unpack(ARGV, i, math.min(i + 999, #ARGV)))
  end
  redis.call('PEXPIREAT', KEYS[2], ARGV[2])
  redis.call('PEXPIREAT', KEYS[5], ARGV[2])
end
if ARGV[5] ~= '1' then
  return 0
end
local n = redis.call('HGET', KEYS[1], 'n')
fanin_move(KEYS[1], 'open', 'seal', 'running')
redis.call('HSET', KEYS[1], 'sealed', '1', 'total', n)
return fanin_finish(KEYS[1], KEYS[3], KEYS[4], 'open', now)
