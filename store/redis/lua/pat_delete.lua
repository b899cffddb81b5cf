-- pat_delete: ARGV = P, user, id. Drops the user's personal access token
-- with that id; returns 1 if there was one, 0 otherwise (another user's
-- token too: it is not in this user's index).
for _, h in ipairs(redis.call('ZRANGE', P .. 'pu:' .. ARGV[2], 0, -1)) do
  if redis.call('HGET', P .. 'p:' .. h, 'i') == ARGV[3] then
    return drop('p', h)
  end
end
return 0
