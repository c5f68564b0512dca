-- sweep.lua takes the jobs that are due from the sweeper's index: those whose
-- score (the time by which a sweep must look at them) has passed. It pushes
-- each one's score lease ms into the future in the same step, so that two
-- coordinators sweeping at once never take the same job, and a coordinator
-- that dies mid-sweep leaves its jobs due again once the lease has passed.
--
-- KEYS[1] the index (sorted set: job ID -> Unix ms)
-- ARGV[1] now, Unix ms
-- ARGV[2] lease, ms
-- ARGV[3] most jobs to take
--
-- Returns job ID, score, job ID, score, ... (the scores before the lease).
local due = redis.call('ZRANGE', KEYS[1], '-inf', ARGV[1], 'BYSCORE', 'LIMIT', 0, ARGV[3], 'WITHSCORES')
local later = tonumber(ARGV[1]) + tonumber(ARGV[2])
for i = 1, #due, 2 do
  redis.call('ZADD', KEYS[1], 'XX', later, due[i])
end
return due
