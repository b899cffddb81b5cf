-- drop_index: ARGV = P, then triples (kind, index key suffix, client):
-- drops the objects each index lists (only the client's when it is not
-- empty) and returns how many tokens existed among them.
local tokens = 0
for i = 2, #ARGV, 3 do
  local n = drop_all(ARGV[i], P .. ARGV[i + 1], ARGV[i + 2])
  if ARGV[i] == 't' then tokens = tokens + n end
end
return tokens
