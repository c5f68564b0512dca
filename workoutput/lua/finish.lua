-- finish.lua ends a write of outputs that went through MULTI/EXEC rather
-- than write.lua (see fastwrite.go). It runs last in the transaction, after
-- the outputs are written: it gives a new outputs hash the job's safety TTL,
-- records the size of the largest output, clears a stall mark, and moves a
-- running job whose every event has an output or a failure to complete.
-- Prepended with the lifecycle prelude.
--
-- KEYS[1] meta hash
-- KEYS[2] outputs hash
-- KEYS[3] failures hash
-- ARGV[1] the write's ID ("w:<Record.ID>")
-- ARGV[2] now, Unix ms
-- ARGV[3] the size in bytes of the largest output written
--
-- Returns 1 when this write completed the job, 0 otherwise.
local m = redis.call('HMGET', KEYS[1], 'expires', 'omax', 'stalled')
fanin_outputs_written(KEYS[1], KEYS[2], m[1], m[2], m[3], ARGV[3])
return fanin_finish(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2])
