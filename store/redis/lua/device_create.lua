-- device_create: KEYS[1] = the device code; ARGV = P, hash, user code
-- hash, client, scopes, interval ms, created ms, expires ms, grace ms (how
-- long the keys outlive the code, so a late poll hears expired_token),
-- audience (a bit set). A live code
-- with the same user code is a CONFLICT; an expired one is replaced.
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 'CONFLICT'
end
local h, uc, client = ARGV[2], ARGV[3], ARGV[4]
local ca, ea = tonumber(ARGV[7]), tonumber(ARGV[8])
local life = math.max(ea - ca, 1) + tonumber(ARGV[9])
local n = P .. 'dn:' .. uc
local other = redis.call('GET', n)
if other then
  local oe = redis.call('HGET', P .. 'd:' .. other, 'ea')
  if oe and tonumber(oe) > ca then
    return 'CONFLICT'
  end
  drop('d', other)
end
redis.call('HSET', KEYS[1], 'n', uc, 'c', client, 's', ARGV[5], 'st', 'pending', 'u', '',
  'iv', ARGV[6], 'lp', 0, 'ca', ca, 'ea', ea, 'used', 0, 'au', ARGV[10])
redis.call('PEXPIRE', KEYS[1], life)
redis.call('SET', n, h, 'PX', life)
redis.call('ZADD', P .. 'dx', ea, h)
index(P .. 'dc:' .. client, h, ea, ca, life)
return 'OK'
