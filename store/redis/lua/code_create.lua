-- code_create: KEYS[1] = the code; ARGV = P, hash, client, user,
-- redirect URI, scopes, challenge, created ms, expires ms, grace ms (how
-- long the key outlives the code, so a late replay is still recognised),
-- redirect URI omitted (0 or 1), nonce, auth time ms ('' for none),
-- audience (a bit set; absent, '', in codes written before it: 0),
-- grant end ms ('' for until revoked, and absent in codes written before it).
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 'CONFLICT'
end
local h, client, user = ARGV[2], ARGV[3], ARGV[4]
local ca, ea = tonumber(ARGV[8]), tonumber(ARGV[9])
local life = math.max(ea - ca, 1) + tonumber(ARGV[10])
redis.call('HSET', KEYS[1], 'c', client, 'u', user, 'ru', ARGV[5], 's', ARGV[6],
  'cc', ARGV[7], 'ca', ca, 'ea', ea, 'used', 0, 'ro', ARGV[11],
  'n', ARGV[12], 'at', ARGV[13], 'au', ARGV[14], 'ge', ARGV[15])
redis.call('PEXPIRE', KEYS[1], life)
redis.call('ZADD', P .. 'cx', ea, h)
index(P .. 'cc:' .. client, h, ea, ca, life)
index(P .. 'cu:' .. user, h, ea, ca, life)
return 'OK'
