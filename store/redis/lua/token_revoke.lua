-- token_revoke: ARGV = P, hash. Returns 1 if the token existed.
return drop('t', ARGV[2])
