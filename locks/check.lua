-- Check a fencing token and record it, writing nothing else (fence.lua is
-- prepended).
-- KEYS[1]: fence key of the resource <prefix>fence:{R}
-- ARGV[1]: the writer's fencing token
-- ARGV[2]: how long the fence must at least live, in ms; 0 for ever
-- Returns {1, highest seen before} when accepted, {0, highest seen} when fenced.
local ok, seen = fanin_fence(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]))
if not ok then
  return {0, seen}
end
return {1, seen}
