-- stall.lua records why a job's events are not being processed (no worker
-- has a handler for its kind, say), for status and inspect. The note is
-- cleared by the next write that records an output. A job that is not
-- accepting events, or does not exist, is left alone. Prepended with the
-- lifecycle prelude.
--
-- KEYS[1] meta hash
-- ARGV[1] the reason
--
-- Returns 1 when the note was recorded, 0 otherwise.
local state = redis.call('HGET', KEYS[1], 'state')
if not fanin_accepting(state) then
  return 0
end
redis.call('HSET', KEYS[1], 'stalled', ARGV[1])
return 1
