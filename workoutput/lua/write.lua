-- write.lua records the outcome of a chunk of events and checks completion,
-- all atomically.
--
-- Every event ID must be registered with the job, or the whole call is
-- rejected before anything is written, so no unregistered event is ever
-- counted: a caller-given ID must be in the events set; a generated ID
-- ("#" and a canonical base-36 sequence number, which Store.Write checks
-- before calling) must be below meta.seq, which the largest of them stands
-- for (fanin_unknown of the lifecycle prelude, which note.lua shares). Outputs replace an earlier failure of the same event; a failure is
-- recorded only for an event without output. So the outputs and failures
-- hashes stay disjoint, and HLEN(outputs) + HLEN(failures) counts each
-- finished event once however often it is delivered. An event delivered
-- twice keeps the output of the last write before the job is claimed (the
-- worker skips the events that have an output when it retries a chunk, so
-- only deliveries that ran at once both write).
--
-- A failure carries the event's payload ("" for none), kept in the payloads
-- hash so that Store.Retry can put the event back to work; an output
-- removes its event's payload and its note of a failed attempt (errors
-- hash), as a failure removes the note. So the payloads hash holds events
-- without an output only, and the errors hash events still being retried.
--
-- The job's latest failure (greatest time, ties broken by the greater event
-- ID, bytewise: the rule of Store.SetFinalLastError) is kept in meta.lastfail
-- as "<order key> <event ID>" (see fanin_later). A write whose failures are
-- the first of the job (no failures hash before them) sets it; a later one
-- moves it on to a later failure only. A failures hash without the field
-- (written by an older version) leaves it absent: SetFinalLastError then
-- scans the failures. An output that replaces the failure it names leaves it
-- stale (SetFinalLastError checks it against the failures hash).
--
-- KEYS[1] meta hash
-- KEYS[2] outputs hash
-- KEYS[3] failures hash
-- KEYS[4] events set
-- KEYS[5] payloads hash (event ID -> payload of a failed event)
-- KEYS[6] errors hash (event ID -> the last failed attempt, see note.lua)
-- ARGV[1] now, Unix ms
-- ARGV[2] the write's ID: a retry carries the same
-- ARGV[3] 1 + the largest sequence number among the generated IDs (0: none)
-- ARGV[4] the generated ID of that sequence number ("" for none)
-- ARGV[5] number n of outputs
-- ARGV[6] number g of outputs with caller-given IDs: the first g outputs
-- ARGV[7] number h of failures with caller-given IDs: the first h failures
-- ARGV[8] the size in bytes of the largest output
-- ARGV[9 .. 8+2n] event ID, output, ...
-- ARGV[9+2n ..] event ID, encoded failure, payload, order key of the
--                failure's time (failureOrder in store.go), ...
--
-- Returns 1 when this write completed the job (also for a retry of it while
-- the job is still complete), 0 when it did not, -1 when the job is neither
-- open, running nor complete (cancelled, collected) and nothing was written.
-- Errors: NOTFOUND, UNKNOWN <event ID>.
local m = redis.call('HMGET', KEYS[1], 'state', 'expires', 'seq', 'completedby', 'omax', 'stalled', 'lastfail')
if not m[1] then
  return redis.error_reply('NOTFOUND')
end
if m[1] == 'complete' and m[4] == ARGV[2] then
  return 1
end
if not fanin_accepting(m[1]) then
  return -1
end
local n = tonumber(ARGV[5])
local last = 8 + 2 * n
local given = {}
for i = 9, 7 + 2 * tonumber(ARGV[6]), 2 do
  given[#given + 1] = ARGV[i]
end
for i = last + 1, last - 3 + 4 * tonumber(ARGV[7]), 4 do
  given[#given + 1] = ARGV[i]
end
local unknown = fanin_unknown(KEYS[4], m[3], ARGV[3], ARGV[4], given)
if unknown then
  return redis.error_reply('UNKNOWN ' .. unknown)
end
-- The outputs, written with one HSET per thousand events straight from the
-- arguments: a Lua table per event, or an HSETNX per event, would cost Redis
-- more than the write itself (unpack takes a few thousand values at most).
if n > 0 then
  for i = 9, last, 2000 do
    redis.call('HSET', KEYS[2], unpack(ARGV, i, math.min(i + 1999, last)))
  end
  -- An output replaces a failure, a kept payload and a failed attempt.
  local ids
  for k = 3, 6 do
    if k ~= 4 and redis.call('EXISTS', KEYS[k]) == 1 then
      if not ids then
        ids = {}
        for i = 9, last, 2 do
          ids[#ids + 1] = ARGV[i]
        end
      end
      for i = 1, #ids, 1000 do
        redis.call('HDEL', KEYS[k], unpack(ids, i, math.min(i + 999, #ids)))
      end
    end
  end
  fanin_outputs_written(KEYS[1], KEYS[2], m[2], m[5], m[6], ARGV[8])
end
-- Failures, only of events without an output, with their payloads.
if last < #ARGV then
  local ids = {}
  for i = last + 1, #ARGV, 4 do
    ids[#ids + 1] = ARGV[i]
  end
  local set, kept, done, latest = {}, {}, {}, nil
  for i = 1, #ids, 1000 do
    local got = redis.call('HMGET', KEYS[2], unpack(ids, i, math.min(i + 999, #ids)))
    for x = 1, #got do
      if not got[x] then
        local k = i + x - 1
        set[#set + 1] = ids[k]
        set[#set + 1] = ARGV[last + 4 * k - 2]
        done[#done + 1] = ids[k]
        if ARGV[last + 4 * k - 1] ~= '' then
          kept[#kept + 1] = ids[k]
          kept[#kept + 1] = ARGV[last + 4 * k - 1]
        end
        local this = ARGV[last + 4 * k] .. ' ' .. ids[k]
        if not latest or fanin_later(this, latest) then
          latest = this
        end
      end
    end
  end
  -- The latest failure, before the failures hash gets these (see above).
  if latest and (redis.call('EXISTS', KEYS[3]) == 0 or (m[7] and fanin_later(latest, m[7]))) then
    redis.call('HSET', KEYS[1], 'lastfail', latest)
  end
  -- list (field, value, ...) into hash key, a thousand fields at a time; a new key gets the safety TTL
  local function hset_all(key, list)
    for i = 1, #list, 2000 do
      redis.call('HSET', key, unpack(list, i, math.min(i + 1999, #list)))
    end
    if #list > 0 and redis.call('PTTL', key) == -1 then
      redis.call('PEXPIREAT', key, m[2])
    end
  end
  hset_all(KEYS[3], set)
  hset_all(KEYS[5], kept)
  if #done > 0 and redis.call('EXISTS', KEYS[6]) == 1 then
    for i = 1, #done, 1000 do
      redis.call('HDEL', KEYS[6], unpack(done, i, math.min(i + 999, #done)))
    end
  end
end
return fanin_finish(KEYS[1], KEYS[2], KEYS[3], ARGV[2], ARGV[1])
