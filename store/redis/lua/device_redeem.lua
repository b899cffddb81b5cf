-- device_redeem: KEYS[1] = the device code; ARGV = P, client, now ms.
-- Marks an approved, unused, unexpired code of the client used, once.
local f = redis.call('HMGET', KEYS[1], 'c', 'used', 'st', 'ea')
if not f[1] or f[1] ~= ARGV[2] then
  return 'NOTFOUND'
end
if f[2] == '1' then
  return 'CONFLICT'
end
if f[3] ~= 'approved' or tonumber(f[4]) <= tonumber(ARGV[3]) then
  return 'NOTFOUND'
end
redis.call('HSET', KEYS[1], 'used', 1)
return redis.call('HMGET', KEYS[1], 'n', 'c', 's', 'st', 'u', 'iv', 'lp', 'ca', 'ea', 'used', 'at', 'au', 'ge')
