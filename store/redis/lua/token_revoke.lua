-- token_revoke: ARGV = P, hash. Returns 1 if the token existed.
return drop_token(ARGV[2])
