package redis

import (
	"beerlocker/limits"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// bucketScript reads or takes from one token bucket, refilled as
// golang.org/x/time/rate refills its Limiter, in one atomic step.
//
// KEYS[1] is the bucket: a hash of t, the tokens it held at l, the time in
// Unix milliseconds it last changed. A missing key is a full bucket.
// ARGV is now (Unix ms, from the caller's clock), burst, the refill in
// tokens per millisecond, n (0 only reads), and debt (1 or 0). It returns
// the tokens before and after, as strings: Redis would cut Lua numbers to
// integers.
//
// As limits.Limiter: tokens = min(burst, t + (now−l)·rate), with a clock
// that goes back refilling nothing; debt takes n as rate.Limiter.ReserveN
// does, going below zero, but never below −burst; without debt n is taken
// if held, else the whole tokens held, else nothing. A bucket that changes lives until it would be full again, so
// Redis forgets it when forgetting loses nothing and memory follows the
// failures of the last few minutes.
const bucketScript = `
local now, burst, rate = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local n, debt = tonumber(ARGV[4]), ARGV[5] == '1'
local maxTTL = 31536000000 -- a year: a bucket that refills slower is forgotten then
local tokens = burst
local state = redis.call('HMGET', KEYS[1], 't', 'l')
if state[1] then
  local elapsed = now - tonumber(state[2])
  if elapsed < 0 then elapsed = 0 end
  tokens = math.min(burst, tonumber(state[1]) + elapsed * rate)
end
local before = tokens
if n > 0 then
  if debt then
    tokens = math.max(tokens - n, -burst)
  elseif tokens >= n then
    tokens = tokens - n
  elseif tokens >= 1 then
    tokens = tokens - math.floor(tokens)
  end
end
if tokens ~= before then
  redis.call('HSET', KEYS[1], 't', string.format('%.17g', tokens), 'l', string.format('%.17g', now))
  local ttl = maxTTL
  if rate > 0 then ttl = math.min(maxTTL, math.max(1, math.ceil((burst - tokens) / rate))) end
  redis.call('PEXPIRE', KEYS[1], string.format('%d', ttl))
end
return {string.format('%.17g', before), string.format('%.17g', tokens)}
`

var bucket = goredis.NewScript(bucketScript)

// Buckets returns the rate limiter's buckets of one dimension (name is
// "address" or "account"), shaped r, kept in Redis so that every instance
// counts the same failures. Time comes from now, the application's clock,
// not Redis's; only the keys' expiry is Redis's. A bucket's key is
// P rl:<name>:<hash>, with the first 16 bytes of the SHA-256 of the bucket's
// key in hex: a username or an address is never stored.
func (s *Store) Buckets(name string, r limits.Rate, now func() time.Time) limits.Buckets {
	return &buckets{client: s.client, prefix: s.key("rl:", name, ":"), rate: r, now: now}
}

// buckets implement limits.Buckets with bucketScript.
type buckets struct {
	client *goredis.Client
	prefix string
	rate   limits.Rate
	now    func() time.Time
}

// Tokens returns how many tokens key's bucket holds now, or an error
// wrapping models.ErrUnavailable when Redis cannot be reached.
func (b *buckets) Tokens(ctx context.Context, key string) (float64, error) {
	before, _, err := b.run(ctx, "read rate limit", key, 0, false)
	return before, err
}

// Take takes n tokens from key's bucket as limits.Buckets says, or
// returns an error wrapping models.ErrUnavailable when Redis cannot be
// reached.
func (b *buckets) Take(ctx context.Context, key string, n int, debt bool) (before, after float64, err error) {
	return b.run(ctx, "take rate limit", key, max(min(n, b.rate.Burst), 0), debt)
}

func (b *buckets) run(ctx context.Context, op, key string, n int, debt bool) (before, after float64, err error) {
	sum := sha256.Sum256([]byte(key))
	d := 0
	if debt {
		d = 1
	}
	res, err := bucket.Run(ctx, b.client, []string{b.prefix + hex.EncodeToString(sum[:16])},
		ms(b.now()), b.rate.Burst, b.rate.PerMinute/float64(time.Minute/time.Millisecond), n, d).StringSlice()
	if err != nil {
		return 0, 0, translate(op, err)
	}
	if len(res) != 2 {
		return 0, 0, fmt.Errorf("redis: %s: script returned %d values", op, len(res))
	}
	if before, err = strconv.ParseFloat(res[0], 64); err == nil {
		after, err = strconv.ParseFloat(res[1], 64)
	}
	if err != nil {
		return 0, 0, fmt.Errorf("redis: %s: %w", op, err)
	}
	return before, after, nil
}
