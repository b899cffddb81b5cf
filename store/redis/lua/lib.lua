-- lib.lua is prepended to every script. ARGV[1] is the key prefix.
local P = ARGV[1]

-- index adds member to the index zset idx, scored by its expiry ea, drops
-- the members that expired a minute before `now` (the new object's
-- creation: the minute allows for instances whose clocks disagree), and
-- keeps the index alive at least `life` ms, as long as its longest member.
-- The expiry zsets (tx, cx, dx) are not indexes: the sweep drains them
-- (drop_expired), and nothing else may, so that it can count.
local function index(idx, member, ea, now, life)
  redis.call('ZADD', idx, ea, member)
  redis.call('ZREMRANGEBYSCORE', idx, '-inf', '(' .. (now - 60000))
  local ttl = redis.call('PTTL', idx)
  if ttl < life then
    redis.call('PEXPIRE', idx, life)
  end
end

-- drop_token deletes the token with hash h and its index entries, and
-- returns 1 if it existed.
local function drop_token(h)
  local k = P .. 't:' .. h
  local f = redis.call('HMGET', k, 'c', 'u', 'f')
  redis.call('ZREM', P .. 'tx', h)
  if not f[1] then
    return 0
  end
  redis.call('DEL', k)
  redis.call('ZREM', P .. 'tc:' .. f[1], h)
  if f[2] ~= '' then redis.call('ZREM', P .. 'tu:' .. f[2], h) end
  if f[3] ~= '' then redis.call('ZREM', P .. 'tf:' .. f[3], h) end
  return 1
end

-- drop_code deletes the authorization code with hash h and its index entries.
local function drop_code(h)
  local k = P .. 'c:' .. h
  local f = redis.call('HMGET', k, 'c', 'u')
  redis.call('ZREM', P .. 'cx', h)
  if not f[1] then
    return 0
  end
  redis.call('DEL', k)
  redis.call('ZREM', P .. 'cc:' .. f[1], h)
  redis.call('ZREM', P .. 'cu:' .. f[2], h)
  return 1
end

-- drop_device deletes the device code with hash h, its index entries and
-- its user code, if that still points at it.
local function drop_device(h)
  local k = P .. 'd:' .. h
  local f = redis.call('HMGET', k, 'c', 'u', 'n')
  redis.call('ZREM', P .. 'dx', h)
  if not f[1] then
    return 0
  end
  redis.call('DEL', k)
  redis.call('ZREM', P .. 'dc:' .. f[1], h)
  if f[2] ~= '' then redis.call('ZREM', P .. 'du:' .. f[2], h) end
  local n = P .. 'dn:' .. f[3]
  if redis.call('GET', n) == h then redis.call('DEL', n) end
  return 1
end

local droppers = {t = drop_token, c = drop_code, d = drop_device}

-- drop_all drops every object of kind ('t', 'c' or 'd') listed in the
-- index idx, or only those whose client field is `client` when that is
-- not empty, and returns how many existed.
local function drop_all(kind, idx, client)
  local drop, n = droppers[kind], 0
  for _, h in ipairs(redis.call('ZRANGE', idx, 0, -1)) do
    if client == '' or redis.call('HGET', P .. kind .. ':' .. h, 'c') == client then
      n = n + drop(h)
    end
  end
  if client == '' then
    redis.call('DEL', idx)
  end
  return n
end

-- drop_expired drops up to `limit` objects of kind listed in the expiry
-- zset P..kind..'x' that expired before now, and returns how many entries
-- it removed (a key Redis already dropped counts: its entry was expired).
local function drop_expired(kind, now, limit)
  local drop = droppers[kind]
  local due = redis.call('ZRANGEBYSCORE', P .. kind .. 'x', '-inf', '(' .. now, 'LIMIT', 0, limit)
  for _, h in ipairs(due) do
    drop(h)
  end
  return #due
end
