-- device_poll: KEYS[1] = the device code; ARGV = P, client, now ms, slow
-- down step ms. Records a poll of an unused, unexpired code and returns
-- {too soon (0/1), fields...}. "Too soon" is DeviceCode.PollTooSoon: less
-- than four fifths of the interval since the last poll, in integers.
local f = redis.call('HMGET', KEYS[1], 'c', 'used', 'ea', 'lp', 'iv')
if not f[1] or f[1] ~= ARGV[2] then
  return 'NOTFOUND'
end
local now = tonumber(ARGV[3])
local soon = 0
if f[2] ~= '1' and tonumber(f[3]) > now then
  local lp, iv = tonumber(f[4]), tonumber(f[5])
  if lp ~= 0 and (now - lp) * 5 < iv * 4 then
    soon = 1
    iv = iv + tonumber(ARGV[4])
  end
  redis.call('HSET', KEYS[1], 'lp', now, 'iv', iv)
end
local out = redis.call('HMGET', KEYS[1], 'n', 'c', 's', 'st', 'u', 'iv', 'lp', 'ca', 'ea', 'used', 'at', 'au', 'ge')
table.insert(out, 1, soon)
return out
