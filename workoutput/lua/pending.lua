-- pending.lua reads, in one round trip, a job's state and which events of a
-- chunk already have an output, so a redelivered chunk skips them.
--
-- KEYS[1] meta hash
-- KEYS[2] outputs hash
-- ARGV[1 ..] event IDs
--
-- Returns {state, flags}: flags has one character per event ID, "1" when it
-- has an output, "0" otherwise. Error: NOTFOUND.
local state = redis.call('HGET', KEYS[1], 'state')
if not state then
  return redis.error_reply('NOTFOUND')
end
local flags = {}
for i = 1, #ARGV do
  flags[i] = redis.call('HEXISTS', KEYS[2], ARGV[i]) == 1 and '1' or '0'
end
return {state, table.concat(flags)}
