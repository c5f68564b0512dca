-- SetIfHigher / SetIfLower (integer and float): set a number if it is
-- higher (or lower) than the stored one, or if the key is missing.
--
-- KEYS[1]  the key
-- ARGV[1]  the candidate value, as decimal text
-- ARGV[2]  "h" to set if higher, "l" to set if lower
-- ARGV[3]  TTL in milliseconds; "0" means no expiration (SET without PX
--          removes any TTL the key had)
--
-- Returns {1, old} when the value was set, old being the previous text or
-- nil (false) when the key was missing; {0} when the condition failed, in
-- which case nothing changed, TTL included. A stored value that is not a
-- number is the error reply "NOTNUMBER ...".
--
-- Two integers are compared exactly as decimal text (Lua numbers are
-- doubles, which cannot tell 2^53 from 2^53+1); any other pair as numbers.

local function int_part(s)
  local neg, digits = string.match(s, '^(%-?)(%d+)$')
  if not digits then
    return nil
  end
  digits = string.gsub(digits, '^0+', '')
  return neg == '-' and digits ~= '', digits
end

-- compare returns -1, 0 or 1 as a < b, a == b or a > b.
local function compare(a, b)
  local aneg, adig = int_part(a)
  local bneg, bdig = int_part(b)
  if aneg ~= nil and bneg ~= nil then
    if aneg ~= bneg then
      return aneg and -1 or 1
    end
    local r = 0
    if #adig ~= #bdig then
      r = #adig < #bdig and -1 or 1
    elseif adig ~= bdig then
      r = adig < bdig and -1 or 1
    end
    return aneg and -r or r
  end
  local x, y = tonumber(a), tonumber(b)
  if x < y then
    return -1
  elseif x > y then
    return 1
  end
  return 0
end

local old = redis.call('GET', KEYS[1])
if old then
  if tonumber(old) == nil then
    return redis.error_reply('NOTNUMBER stored value is not a number')
  end
  local c = compare(ARGV[1], old)
  if (ARGV[2] == 'h' and c <= 0) or (ARGV[2] == 'l' and c >= 0) then
    return {0}
  end
end
if ARGV[3] == '0' then
  redis.call('SET', KEYS[1], ARGV[1])
else
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
end
return {1, old}
