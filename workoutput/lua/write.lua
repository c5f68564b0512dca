-- write.lua records the outcome of a chunk of events and checks completion,
-- all atomically.
--
-- Every event ID must be registered with the job, or the whole call is
-- rejected before anything is written, so no unregistered event is ever
-- counted: a caller-given ID must be in the events set; a generated ID
-- ("#" and a canonical base-36 sequence number, which Store.Write checks
-- before calling) must be below meta.seq, which the largest of them stands
-- for. Outputs are set idempotently (only for events without one: the
-- first output of an event wins, a redelivered event changes nothing) and
-- remove an earlier failure of the same event. A failure is recorded only for an event without
-- output. So the outputs and failures hashes stay disjoint and
-- HLEN(outputs) + HLEN(failures) counts each finished event once.
--
-- KEYS[1] meta hash
-- KEYS[2] outputs hash
-- KEYS[3] failures hash
-- KEYS[4] events set
-- ARGV[1] now, Unix ms
-- ARGV[2] the write's ID: a retry carries the same
-- ARGV[3] 1 + the largest sequence number among the generated IDs (0: none)
-- ARGV[4] the generated ID of that sequence number ("" for none)
-- ARGV[5] number n of outputs
-- ARGV[6] number g of outputs with caller-given IDs: the first g outputs
-- ARGV[7] number h of failures with caller-given IDs: the first h failures
-- ARGV[8 .. 7+2n] event ID, output, ...
-- ARGV[8+2n ..] event ID, encoded failure, ...
--
-- Returns 1 when this write completed the job (also for a retry of it while
-- the job is still complete), 0 when it did not, -1 when the job is neither
-- open, running nor complete (cancelled, collected) and nothing was written.
-- Errors: NOTFOUND, UNKNOWN <event ID>.
local m = redis.call('HMGET', KEYS[1], 'state', 'expires', 'seq', 'completedby', 'omax')
if not m[1] then
  return redis.error_reply('NOTFOUND')
end
if m[1] == 'complete' and m[4] == ARGV[2] then
  return 1
end
if m[1] ~= 'open' and m[1] ~= 'running' and m[1] ~= 'complete' then
  return -1
end
if tonumber(ARGV[3]) > tonumber(m[3]) then
  return redis.error_reply('UNKNOWN ' .. ARGV[4])
end
local n = tonumber(ARGV[5])
local last = 7 + 2 * n
local given = {}
for i = 8, 6 + 2 * tonumber(ARGV[6]), 2 do
  given[#given + 1] = ARGV[i]
end
for i = last + 1, last - 1 + 2 * tonumber(ARGV[7]), 2 do
  given[#given + 1] = ARGV[i]
end
for i = 1, #given, 1000 do
  local seen = redis.call('SMISMEMBER', KEYS[4], unpack(given, i, math.min(i + 999, #given)))
  for x = 1, #seen do
    if seen[x] == 0 then
      return redis.error_reply('UNKNOWN ' .. given[i + x - 1])
    end
  end
end
-- The outputs of events that have none yet, read with one HMGET and
-- written with one HSET per thousand events (HSETNX one by one costs Redis
-- a script call per event). unpack takes at most a few thousand values.
if n > 0 then
  local ids = {}
  for i = 8, last, 2 do
    ids[#ids + 1] = ARGV[i]
  end
  local fresh, set = {}, {}
  local bytes, omax = 0, tonumber(m[5] or '0')
  for i = 1, #ids, 1000 do
    local got = redis.call('HMGET', KEYS[2], unpack(ids, i, math.min(i + 999, #ids)))
    for x = 1, #got do
      if not got[x] then
        local k = i + x - 1
        local value = ARGV[7 + 2 * k]
        fresh[#fresh + 1] = ids[k]
        set[#set + 1] = ids[k]
        set[#set + 1] = value
        bytes = bytes + #value
        if #value > omax then
          omax = #value
        end
      end
    end
  end
  for i = 1, #set, 2000 do
    redis.call('HSET', KEYS[2], unpack(set, i, math.min(i + 1999, #set)))
  end
  if #fresh > 0 then
    if redis.call('EXISTS', KEYS[3]) == 1 then
      for i = 1, #fresh, 1000 do
        redis.call('HDEL', KEYS[3], unpack(fresh, i, math.min(i + 999, #fresh)))
      end
    end
    if redis.call('PTTL', KEYS[2]) == -1 then
      redis.call('PEXPIREAT', KEYS[2], m[2])
    end
    redis.call('HINCRBY', KEYS[1], 'obytes', bytes)
    redis.call('HSET', KEYS[1], 'omax', omax)
  end
  redis.call('HDEL', KEYS[1], 'stalled')
end
-- Failures, only of events without an output.
if last < #ARGV then
  local ids = {}
  for i = last + 1, #ARGV, 2 do
    ids[#ids + 1] = ARGV[i]
  end
  local set = {}
  for i = 1, #ids, 1000 do
    local got = redis.call('HMGET', KEYS[2], unpack(ids, i, math.min(i + 999, #ids)))
    for x = 1, #got do
      if not got[x] then
        local k = i + x - 1
        set[#set + 1] = ids[k]
        set[#set + 1] = ARGV[last + 2 * k]
      end
    end
  end
  for i = 1, #set, 2000 do
    redis.call('HSET', KEYS[3], unpack(set, i, math.min(i + 1999, #set)))
  end
  if #set > 0 and redis.call('PTTL', KEYS[3]) == -1 then
    redis.call('PEXPIREAT', KEYS[3], m[2])
  end
end
return fanin_finish(KEYS[1], KEYS[2], KEYS[3], ARGV[2], ARGV[1])
