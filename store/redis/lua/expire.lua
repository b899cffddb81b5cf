-- expire: ARGV = P, kind ('t', 'c', 'd' or 'p'), now ms, batch size.
return drop_expired(ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]))
