-- device_decide: KEYS[1] = the device code; ARGV = P, hash, user, status,
-- now ms, auth time ms ("" for none), the scopes the user allowed ("" keeps
-- the requested ones), grant end ms ("" for until revoked). Decides a
-- pending, unexpired code, once.
local f = redis.call('HMGET', KEYS[1], 'st', 'ea', 'ca')
if not f[1] or tonumber(f[2]) <= tonumber(ARGV[5]) then
  return 'NOTFOUND'
end
if f[1] ~= 'pending' then
  return 'CONFLICT'
end
redis.call('HSET', KEYS[1], 'st', ARGV[4], 'u', ARGV[3], 'at', ARGV[6], 'ge', ARGV[8])
if ARGV[7] ~= '' then
  redis.call('HSET', KEYS[1], 's', ARGV[7])
end
local ea = tonumber(f[2])
index(P .. 'du:' .. ARGV[3], ARGV[2], ea, tonumber(ARGV[5]), math.max(redis.call('PTTL', KEYS[1]), 1))
return 'OK'
