-- pending.lua reads, in one round trip, a job's state, times and which events
-- of a chunk already have an output, so a redelivered chunk skips them.
-- Read-only.
--
-- KEYS[1] meta hash
-- KEYS[2] outputs hash
-- ARGV[1 ..] event IDs
--
-- Returns {state, flags, created, deadline, event timeout in ms}: flags has
-- one character per event ID, "1" when it has an output, "0" otherwise.
-- Error: NOTFOUND.
local m = redis.call('HMGET', KEYS[1], 'state', 'created', 'deadline', 'etimeout')
if not m[1] then
  return redis.error_reply('NOTFOUND')
end
local flags = {}
for i = 1, #ARGV do
  flags[i] = redis.call('HEXISTS', KEYS[2], ARGV[i]) == 1 and '1' or '0'
end
return {m[1], table.concat(flags), m[2], m[3], m[4] or '0'}
