-- pat_create: ARGV = P, hash, id, user, name, scopes, created ms, expires
-- ms, key life ms, the per-user limit. Returns 'CONFLICT' when the hash or
-- the id is taken or the user has the limit of tokens already (those that
-- expired less than a minute ago count, as index keeps them), else 'OK'.
local h, id, user = ARGV[2], ARGV[3], ARGV[4]
local ca, ea, life, limit = tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10])
local k = P .. 'p:' .. h
local idx = P .. 'pu:' .. user
if redis.call('EXISTS', k) == 1 then
  return 'CONFLICT'
end
redis.call('ZREMRANGEBYSCORE', idx, '-inf', '(' .. (ca - 60000))
local members = redis.call('ZRANGE', idx, 0, -1)
if #members >= limit then
  return 'CONFLICT'
end
for _, m in ipairs(members) do
  if redis.call('HGET', P .. 'p:' .. m, 'i') == id then
    return 'CONFLICT'
  end
end
redis.call('HSET', k, 'i', id, 'u', user, 'n', ARGV[5], 's', ARGV[6], 'ca', ca, 'ea', ea, 'lu', '')
redis.call('PEXPIRE', k, life)
redis.call('ZADD', P .. 'px', ea, h)
index(idx, h, ea, ca, life)
return 'OK'
