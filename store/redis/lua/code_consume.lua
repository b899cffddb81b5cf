-- code_consume: KEYS[1] = the code; ARGV = P, now ms. Marks an unused,
-- unexpired code used and returns its fields; a used code is CONFLICT
-- even once expired (RFC 6749 §4.1.2: a second use is detected).
local f = redis.call('HMGET', KEYS[1], 'used', 'ea')
if not f[1] then
  return 'NOTFOUND'
end
if f[1] == '1' then
  return 'CONFLICT'
end
if tonumber(f[2]) <= tonumber(ARGV[2]) then
  return 'NOTFOUND'
end
redis.call('HSET', KEYS[1], 'used', 1)
return redis.call('HMGET', KEYS[1], 'c', 'u', 'ru', 's', 'cc', 'ca', 'ea', 'used', 'ro', 'n', 'at', 'au', 'ge')
