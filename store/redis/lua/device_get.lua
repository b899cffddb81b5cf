-- device_get: ARGV = P, user code hash. Returns the fields of the device
-- code the user code points at, or NOTFOUND.
local h = redis.call('GET', P .. 'dn:' .. ARGV[2])
if not h then
  return 'NOTFOUND'
end
local f = redis.call('HMGET', P .. 'd:' .. h, 'n', 'c', 's', 'st', 'u', 'iv', 'lp', 'ca', 'ea', 'used', 'at', 'au', 'ge')
if not f[1] then
  return 'NOTFOUND'
end
table.insert(f, 1, h)
return f
