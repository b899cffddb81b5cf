-- token_rotate: KEYS[1] = the token; ARGV = P, now ms. Marks an unexpired
-- refresh token rotated, once: the second caller gets CONFLICT.
local f = redis.call('HMGET', KEYS[1], 'k', 'ea', 'r')
if not f[1] or f[1] ~= 'refresh' or tonumber(f[2]) <= tonumber(ARGV[2]) then
  return 'NOTFOUND'
end
if f[3] == '1' then
  return 'CONFLICT'
end
redis.call('HSET', KEYS[1], 'r', 1)
return 'OK'
