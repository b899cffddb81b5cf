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

-- listed names, for each kind of object ('t' token, 'c' code, 'd' device
-- code, 'p' personal access token), the indexes it is listed in, by the
-- field that holds the id.
local listed = {
  t = {c = 'tc:', u = 'tu:', f = 'tf:'},
  c = {c = 'cc:', u = 'cu:'},
  d = {c = 'dc:', u = 'du:'},
  p = {u = 'pu:'},
}

-- drop deletes the object of kind with hash h, its index entries and, for
-- a device code, its user code if that still points at it. Returns 1 if
-- the object existed.
local function drop(kind, h)
  local k = P .. kind .. ':' .. h
  redis.call('ZREM', P .. kind .. 'x', h)
  if redis.call('EXISTS', k) == 0 then
    return 0
  end
  for field, idx in pairs(listed[kind]) do
    local id = redis.call('HGET', k, field)
    if id and id ~= '' then redis.call('ZREM', P .. idx .. id, h) end
  end
  if kind == 'd' then
    local n = P .. 'dn:' .. redis.call('HGET', k, 'n')
    if redis.call('GET', n) == h then redis.call('DEL', n) end
  end
  redis.call('DEL', k)
  return 1
end

-- drop_all drops every object of kind ('t', 'c', 'd' or 'p') listed in the
-- index idx, or only those whose client field is `client` when that is
-- not empty, and returns how many existed.
local function drop_all(kind, idx, client)
  local n = 0
  for _, h in ipairs(redis.call('ZRANGE', idx, 0, -1)) do
    if client == '' or redis.call('HGET', P .. kind .. ':' .. h, 'c') == client then
      n = n + drop(kind, h)
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
  local due = redis.call('ZRANGEBYSCORE', P .. kind .. 'x', '-inf', '(' .. now, 'LIMIT', 0, limit)
  for _, h in ipairs(due) do
    drop(kind, h)
  end
  return #due
end
