-- note.lua records failed attempts of events that will be retried (a
-- handler error, a timeout), so that status shows a job's first failure at
-- once and inspect --missing the attempts and last error of each event
-- still missing. The next output or failure of an event removes its note
-- (write.lua); Store.Retry removes them all. Prepended with the lifecycle
-- prelude.
--
-- A job that is not accepting events (collected, cancelled), or does not
-- exist, is left alone: nothing is written, so no key is created without
-- its TTL. Otherwise every event ID must be registered with the job, by
-- the rule write.lua applies (fanin_unknown), or the whole call is rejected
-- before anything is written, as a write is. An event that already has an
-- output or a failure (finished by another delivery, or failed for good) is
-- over: its attempt is not recorded. meta.lasterr is set only when an
-- attempt is recorded, to the last one recorded.
--
-- KEYS[1] meta hash
-- KEYS[2] outputs hash
-- KEYS[3] failures hash
-- KEYS[4] events set
-- KEYS[5] errors hash (event ID -> the last failed attempt)
-- ARGV[1] 1 + the largest sequence number among the generated IDs (0: none)
-- ARGV[2] the generated ID of that sequence number ("" for none)
-- ARGV[3] number g of caller-given event IDs among the attempts
-- ARGV[4 .. 3+g] those caller-given event IDs
-- ARGV[4+g ..] event ID, encoded failed attempt (JSON with its event ID, the
--              form of meta.lasterr), ..., in the caller's order
--
-- Returns the number of failed attempts recorded (0 also when the job is
-- left alone). Errors: UNKNOWN <event ID>.
local m = redis.call('HMGET', KEYS[1], 'state', 'expires', 'seq')
if not fanin_accepting(m[1]) then
  return 0
end
local first = 4 + tonumber(ARGV[3])
local given = {}
for i = 4, first - 1 do
  given[#given + 1] = ARGV[i]
end
local unknown = fanin_unknown(KEYS[4], m[3], ARGV[1], ARGV[2], given)
if unknown then
  return redis.error_reply('UNKNOWN ' .. unknown)
end
-- An event with an output or a failure is over: a thousand events per
-- HMGET of each hash, as write.lua checks.
local ids = {}
for i = first, #ARGV, 2 do
  ids[#ids + 1] = ARGV[i]
end
local set, last, n = {}, nil, 0
for i = 1, #ids, 1000 do
  local j = math.min(i + 999, #ids)
  local out = redis.call('HMGET', KEYS[2], unpack(ids, i, j))
  local failed = redis.call('HMGET', KEYS[3], unpack(ids, i, j))
  for x = 1, #out do
    if not out[x] and not failed[x] then
      local k = i + x - 1
      set[#set + 1] = ids[k]
      set[#set + 1] = ARGV[first + 2 * k - 1]
      last, n = ARGV[first + 2 * k - 1], n + 1
    end
  end
end
if #set == 0 then
  return 0
end
for i = 1, #set, 2000 do
  redis.call('HSET', KEYS[5], unpack(set, i, math.min(i + 1999, #set)))
end
if redis.call('PTTL', KEYS[5]) == -1 then
  redis.call('PEXPIREAT', KEYS[5], m[2])
end
redis.call('HSET', KEYS[1], 'lasterr', last)
return n
