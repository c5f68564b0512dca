-- Read the highest fencing token accepted for a resource.
-- KEYS[1]: fence key of the resource <prefix>fence:{R}
-- Returns the token, 0 when none was accepted.
return tonumber(redis.call('GET', KEYS[1]) or '0')
