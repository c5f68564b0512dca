-- lifecycle.lua is the prelude of every script that changes a job. It is
-- preceded by the table fanin_transitions, rendered from Transitions() in
-- lifecycle.go (the one owner of the state machine), and by the set of the
-- states that accept events, rendered from State.accepting:
--
--   fanin_transitions[name] = {from = {[state] = true, ...}, to = {[state] = true, ...}}
--   fanin_accepting_states = {[state] = true, ...}
--
-- Scripts check every precondition before their first write, and change a
-- job's state only through fanin_move. Redis does not roll a script back, so
-- a check that fails after a write would leave half a change behind.

-- fanin_fail ends the script with the error reply code (for example
-- "STATE cancelled"). Redis appends " script: <sha>, on @user_script:<n>."
-- to it; the Store strips that.
local function fanin_fail(code)
  error({err = code})
end

-- fanin_accepting reports whether a job in state (false: no job) accepts
-- the outcomes of its events (open, running or complete): write.lua and
-- note.lua record them, stall.lua a stall, and open.lua answers a retried
-- Open, only then.
local function fanin_accepting(state)
  return fanin_accepting_states[state] == true
end

-- fanin_allowed reports whether transition name leads from state to to.
local function fanin_allowed(state, name, to)
  local t = fanin_transitions[name]
  return t ~= nil and t.from[state] == true and t.to[to] == true
end

-- fanin_move moves the job whose meta hash is meta from state to to by
-- transition name, or fails with STATE <state> when the lifecycle has no
-- such move.
local function fanin_move(meta, state, name, to)
  if not fanin_allowed(state, name, to) then
    fanin_fail('STATE ' .. tostring(state))
  end
  redis.call('HSET', meta, 'state', to)
end

-- fanin_finish moves a running job to complete when every one of its
-- events has an output or a failure (HLEN(outputs) + HLEN(failures) >=
-- total; the two hashes are disjoint and hold registered events only). It
-- records who finished it (by: "open", "seal" or a write's ID) so that a
-- retry of that call gets the same answer, and returns 1 only for the call
-- that makes the move.
local function fanin_finish(meta, outputs, failures, by, now)
  local m = redis.call('HMGET', meta, 'state', 'total')
  if m[1] ~= 'running' then
    return 0
  end
  if redis.call('HLEN', outputs) + redis.call('HLEN', failures) < tonumber(m[2]) then
    return 0
  end
  fanin_move(meta, 'running', 'finish', 'complete')
  redis.call('HSET', meta, 'completed', now, 'completedby', by)
  return 1
end

-- fanin_outputs_written keeps the bookkeeping of a write of outputs to the
-- job whose meta hash is meta: a new outputs hash gets the job's safety TTL
-- (expires, Unix ms), omax the size of the largest output (largest, against
-- the recorded omax), and a stall mark (stalled: its value, or false) is
-- cleared, as events are being processed.
local function fanin_outputs_written(meta, outputs, expires, omax, stalled, largest)
  if redis.call('PTTL', outputs) == -1 then
    redis.call('PEXPIREAT', outputs, expires)
  end
  if tonumber(largest) > tonumber(omax or '0') then
    redis.call('HSET', meta, 'omax', largest)
  end
  if stalled then
    redis.call('HDEL', meta, 'stalled')
  end
end

-- fanin_retain applies a finished job's retention: with retention > 0 (ms)
-- every key in keep and drop expires that long from now; with 0 the keys in
-- drop (the job's data) are deleted at once (UNLINK: freed in the
-- background) and those in keep (meta, the result, fence, token counter)
-- live tombstone ms more, so that a retried call still gets its answer,
-- status tells how the job ended and a client waiting for the result
-- (collect --wait) reads it.
local function fanin_retain(keep, drop, retention, tombstone)
  if retention > 0 then
    for i = 1, #keep do
      redis.call('PEXPIRE', keep[i], retention)
    end
    for i = 1, #drop do
      redis.call('PEXPIRE', drop[i], retention)
    end
    return
  end
  redis.call('UNLINK', unpack(drop))
  for i = 1, #keep do
    redis.call('PEXPIRE', keep[i], tombstone)
  end
end

-- fanin_unknown returns the first event ID of a call (write.lua, note.lua)
-- that is not registered with the job, or nil when every one is. A
-- generated ID ("#" and a canonical base-36 sequence number, which the Store
-- checks before calling) is registered when its sequence number is below
-- seq (meta.seq): limit is 1 + the largest among the call's generated IDs
-- (0: none) and maxid that ID. A caller-given ID (the list given) must be
-- in the events set events. Generated IDs are checked first.
local function fanin_unknown(events, seq, limit, maxid, given)
  if tonumber(limit) > tonumber(seq) then
    return maxid
  end
  for i = 1, #given, 1000 do
    local seen = redis.call('SMISMEMBER', events, unpack(given, i, math.min(i + 999, #given)))
    for x = 1, #seen do
      if seen[x] == 0 then
        return given[i + x - 1]
      end
    end
  end
  return nil
end

-- fanin_later reports whether a sorts after b byte by byte, as Go compares
-- strings (Lua's own comparison follows the server's locale: strcoll). On
-- meta.lastfail's form "<order key> <event ID>" (write.lua), whose order key
-- has a fixed width, it orders by time, then event ID.
local function fanin_later(a, b)
  if a == b then
    return false
  end
  local n = math.min(#a, #b)
  local i = 1
  while i <= n and string.byte(a, i) == string.byte(b, i) do
    i = i + 1
  end
  if i > n then
    return #a > #b
  end
  return string.byte(a, i) > string.byte(b, i)
end
