-- token_create: ARGV = P, then for each token 12 fields: hash, kind, client,
-- user, scopes, family, created ms, expires ms, granted ms ('' for none),
-- auth time ms ('' for none), audience (a bit set), grant end ms ('' for
-- until revoked).
-- Inserts all or none.
for i = 2, #ARGV, 12 do
  if redis.call('EXISTS', P .. 't:' .. ARGV[i]) == 1 then
    return 'CONFLICT'
  end
end
for i = 2, #ARGV, 12 do
  local h, client, user, family = ARGV[i], ARGV[i + 2], ARGV[i + 3], ARGV[i + 5]
  local ca, ea = tonumber(ARGV[i + 6]), tonumber(ARGV[i + 7])
  local life = math.max(ea - ca, 1)
  local k = P .. 't:' .. h
  redis.call('HSET', k, 'k', ARGV[i + 1], 'c', client, 'u', user, 's', ARGV[i + 4],
    'f', family, 'ca', ca, 'ea', ea, 'r', 0, 'ga', ARGV[i + 8], 'at', ARGV[i + 9],
    'au', ARGV[i + 10], 'ge', ARGV[i + 11])
  redis.call('PEXPIRE', k, life)
  redis.call('ZADD', P .. 'tx', ea, h)
  index(P .. 'tc:' .. client, h, ea, ca, life)
  if user ~= '' then index(P .. 'tu:' .. user, h, ea, ca, life) end
  if family ~= '' then index(P .. 'tf:' .. family, h, ea, ca, life) end
end
return 'OK'
