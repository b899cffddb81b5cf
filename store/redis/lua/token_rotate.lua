-- token_rotate: KEYS[1] = the token; ARGV = P, now ms. Marks an unexpired
-- refresh token rotated, once, by setting r to the time it was (r is 0
-- until then, and 1 in tokens rotated before the time was kept): the
-- second caller gets CONFLICT.
local f = redis.call('HMGET', KEYS[1], 'k', 'ea', 'r')
if not f[1] or f[1] ~= 'refresh' or tonumber(f[2]) <= tonumber(ARGV[2]) then
  return 'NOTFOUND'
end
if f[3] and f[3] ~= '0' then
  return 'CONFLICT'
end
redis.call('HSET', KEYS[1], 'r', ARGV[2])
return 'OK'
