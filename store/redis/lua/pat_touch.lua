-- pat_touch: ARGV = P, hash, hour ms. Sets the token's last use to the
-- hour unless it is that hour or later already; a token that is gone is
-- left gone.
local k = P .. 'p:' .. ARGV[2]
local hour = tonumber(ARGV[3])
local lu = redis.call('HGET', k, 'lu')
if lu and (lu == '' or tonumber(lu) < hour) then
  redis.call('HSET', k, 'lu', hour)
end
return 0
