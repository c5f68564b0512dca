-- missing.lua filters event IDs down to those with neither an output nor a
-- failure. Read-only.
--
-- KEYS[1] outputs hash
-- KEYS[2] failures hash
-- ARGV[1 ..] event IDs
--
-- Returns the event IDs still missing, in the order given.
local out = {}
for i = 1, #ARGV do
  if redis.call('HEXISTS', KEYS[1], ARGV[i]) == 0 and redis.call('HEXISTS', KEYS[2], ARGV[i]) == 0 then
    out[#out + 1] = ARGV[i]
  end
end
return out
