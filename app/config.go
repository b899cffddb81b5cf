package app

import (
	"beerlocker/keys"
	"beerlocker/limits"
	"beerlocker/oauth"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config is the service's configuration: environment variables with
// matching flags (API.md §8). Flags win over the environment.
type Config struct {
	Addr          string
	PublicURL     string
	MongoURI      string
	MongoDatabase string
	RedisURL      string // codes, tokens, device codes and rate limits in Redis when set
	DataDir       string
	SecretKey     string
	TokenCacheTTL time.Duration
	MetricsAddr   string        // "off" disables metrics
	Limits        limits.Limits // RATE_LIMIT_*: failed credentials per address and per account, registrations per address
	// TrustedProxies is TRUSTED_PROXIES as given: comma-separated CIDRs of
	// the reverse proxies whose X-Forwarded-For is believed. Proxies
	// returns it parsed.
	TrustedProxies string
	// SigningKeyRotation is how often the OpenID Connect signing keys
	// rotate by themselves; 0 only by `beerlocker rotate-keys`.
	SigningKeyRotation time.Duration
	// SigningKeyActivationDelay is how long a new signing key is
	// published before it signs.
	SigningKeyActivationDelay time.Duration
	// RefreshReuseGrace is REFRESH_REUSE_GRACE: how long after a rotation
	// the same client may present the rotated refresh token again
	// (API.md §11); 0s–60s.
	RefreshReuseGrace time.Duration
	// ClientMetadataAllowHTTPLoopback also accepts client metadata
	// documents at http(s)://127.0.0.1, localhost or [::1] with a port
	// (API.md §10): for local development and tests only.
	ClientMetadataAllowHTTPLoopback bool
	// clientMetadataLoopback is CLIENT_METADATA_ALLOW_HTTP_LOOPBACK as
	// given, for validate to check.
	clientMetadataLoopback string
}

// ParseConfig reads the environment, then flags, and validates the result.
// Every error is one line naming the setting.
func ParseConfig(args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	env := func(key, def string) string {
		if v := getenv(key); v != "" {
			return v
		}
		return def
	}
	var cfg Config
	fs := flag.NewFlagSet("beerlocker", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.Addr, "addr", env("ADDR", ":3000"), "listen address (ADDR)")
	fs.StringVar(&cfg.PublicURL, "public-url", env("PUBLIC_URL", "http://localhost:3000"), "public base URL and OAuth issuer (PUBLIC_URL)")
	fs.StringVar(&cfg.MongoURI, "mongodb-uri", env("MONGODB_URI", ""), "MongoDB connection string; empty uses the embedded database (MONGODB_URI)")
	fs.StringVar(&cfg.MongoDatabase, "mongodb-database", env("MONGODB_DATABASE", "beerlocker"), "MongoDB database name (MONGODB_DATABASE)")
	fs.StringVar(&cfg.RedisURL, "redis-url", env("REDIS_URL", ""), "Redis for codes, tokens, device codes and rate limits, shared by every instance; empty keeps them in the database and in memory (REDIS_URL)")
	fs.StringVar(&cfg.DataDir, "data-dir", env("DATA_DIR", "./data"), "directory of the embedded database and the generated secret key (DATA_DIR)")
	fs.StringVar(&cfg.SecretKey, "secret-key", env("SECRET_KEY", ""), "secret for session and cache keys, at least 32 characters; generated into DATA_DIR when empty (SECRET_KEY)")
	fs.StringVar(&cfg.MetricsAddr, "metrics-addr", env("METRICS_ADDR", "127.0.0.1:9090"), "listen address of GET /metrics (Prometheus), separate from ADDR; off disables (METRICS_ADDR)")
	fs.StringVar(&cfg.TrustedProxies, "trusted-proxies", env("TRUSTED_PROXIES", ""), "comma-separated CIDRs of the reverse proxies whose X-Forwarded-For names the client address; empty trusts none (TRUSTED_PROXIES)")
	fs.DurationVar(&cfg.TokenCacheTTL, "token-cache-ttl", envDuration(getenv, "TOKEN_CACHE_TTL", 5*time.Second), "how long a bearer token is served from memory; bounds how late another instance's revocation is seen; 0 disables (TOKEN_CACHE_TTL)")
	def := limits.DefaultLimits
	fs.IntVar(&cfg.Limits.Address.Burst, "rate-limit-address-burst", envInt(getenv, "RATE_LIMIT_ADDRESS_BURST", def.Address.Burst), "failed credentials one client address may have at once (RATE_LIMIT_ADDRESS_BURST)")
	fs.Float64Var(&cfg.Limits.Address.PerMinute, "rate-limit-address-per-minute", envFloat(getenv, "RATE_LIMIT_ADDRESS_PER_MINUTE", def.Address.PerMinute), "failed credentials per minute one client address regains (RATE_LIMIT_ADDRESS_PER_MINUTE)")
	fs.IntVar(&cfg.Limits.Account.Burst, "rate-limit-account-burst", envInt(getenv, "RATE_LIMIT_ACCOUNT_BURST", def.Account.Burst), "failed credentials one username or client_id may have at once (RATE_LIMIT_ACCOUNT_BURST)")
	fs.Float64Var(&cfg.Limits.Account.PerMinute, "rate-limit-account-per-minute", envFloat(getenv, "RATE_LIMIT_ACCOUNT_PER_MINUTE", def.Account.PerMinute), "failed credentials per minute one username or client_id regains (RATE_LIMIT_ACCOUNT_PER_MINUTE)")
	fs.IntVar(&cfg.Limits.Register.Burst, "rate-limit-register-burst", envInt(getenv, "RATE_LIMIT_REGISTER_BURST", def.Register.Burst), "registrations one client address may attempt at once, whether they succeed or not (RATE_LIMIT_REGISTER_BURST)")
	fs.Float64Var(&cfg.Limits.Register.PerMinute, "rate-limit-register-per-minute", envFloat(getenv, "RATE_LIMIT_REGISTER_PER_MINUTE", def.Register.PerMinute), "registrations per minute one client address regains (RATE_LIMIT_REGISTER_PER_MINUTE)")
	fs.IntVar(&cfg.Limits.MaxKeys, "rate-limit-max-keys", envInt(getenv, "RATE_LIMIT_MAX_KEYS", def.MaxKeys), "addresses, and accounts, remembered at most by the limits (RATE_LIMIT_MAX_KEYS)")
	fs.DurationVar(&cfg.SigningKeyRotation, "signing-key-rotation", envDuration(getenv, "SIGNING_KEY_ROTATION", keys.DefaultRotation), "how often the signing keys rotate by themselves; 0 only by rotate-keys (SIGNING_KEY_ROTATION)")
	fs.DurationVar(&cfg.SigningKeyActivationDelay, "signing-key-activation-delay", envDuration(getenv, "SIGNING_KEY_ACTIVATION_DELAY", keys.DefaultActivationDelay), "how long a new signing key is published before it signs (SIGNING_KEY_ACTIVATION_DELAY)")
	fs.DurationVar(&cfg.RefreshReuseGrace, "refresh-reuse-grace", envDuration(getenv, "REFRESH_REUSE_GRACE", 0),
		"how long after a refresh the same client may present the old refresh token again and get fresh tokens, for clients that refresh twice at once; 0s–60s (REFRESH_REUSE_GRACE)")
	cfg.clientMetadataLoopback = getenv("CLIENT_METADATA_ALLOW_HTTP_LOOPBACK")
	fs.BoolVar(&cfg.ClientMetadataAllowHTTPLoopback, "client-metadata-allow-http-loopback", cfg.clientMetadataLoopback == "1" || cfg.clientMetadataLoopback == "true",
		"also fetch client metadata documents from loopback addresses, over http too; for local development and tests only (CLIENT_METADATA_ALLOW_HTTP_LOOPBACK)")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return cfg, cfg.validate()
}

func (c *Config) validate() error {
	host, port, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return fmt.Errorf("ADDR %q is not host:port (for example :3000 or 127.0.0.1:8080)", c.Addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("ADDR %q has no valid port", c.Addr)
	}
	if host != "" && host != "localhost" && net.ParseIP(host) == nil {
		return fmt.Errorf("ADDR %q: the host must be an IP address or localhost", c.Addr)
	}
	if c.MetricsAddr != "off" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			return fmt.Errorf("METRICS_ADDR %q is not host:port or off", c.MetricsAddr)
		}
	}
	u, err := url.Parse(c.PublicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("PUBLIC_URL %q must be an http or https URL without query or fragment, like https://beers.example.com", c.PublicURL)
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	if c.MongoURI != "" && !strings.HasPrefix(c.MongoURI, "mongodb://") && !strings.HasPrefix(c.MongoURI, "mongodb+srv://") {
		return errors.New("MONGODB_URI must start with mongodb:// or mongodb+srv://")
	}
	if c.RedisURL != "" && !strings.HasPrefix(c.RedisURL, "redis://") && !strings.HasPrefix(c.RedisURL, "rediss://") {
		return errors.New("REDIS_URL must start with redis:// or rediss://")
	}
	if c.MongoDatabase == "" || len(c.MongoDatabase) > 63 || strings.ContainsAny(c.MongoDatabase, "/\\. \"$*<>:|?") {
		return fmt.Errorf("MONGODB_DATABASE %q is not a valid database name", c.MongoDatabase)
	}
	if c.TokenCacheTTL < 0 || c.TokenCacheTTL > time.Minute {
		return fmt.Errorf("TOKEN_CACHE_TTL %s must be between 0s and 1m", c.TokenCacheTTL)
	}
	if c.DataDir == "" {
		return errors.New("DATA_DIR must not be empty")
	}
	if c.RefreshReuseGrace < 0 || c.RefreshReuseGrace > oauth.MaxRefreshReuseGrace {
		return fmt.Errorf("REFRESH_REUSE_GRACE %s must be between 0s and %s", c.RefreshReuseGrace, oauth.MaxRefreshReuseGrace)
	}
	switch c.clientMetadataLoopback {
	case "", "0", "1", "false", "true":
	default:
		return fmt.Errorf("CLIENT_METADATA_ALLOW_HTTP_LOOPBACK %q must be 1 or 0", c.clientMetadataLoopback)
	}
	if _, err := c.Proxies(); err != nil {
		return err
	}
	for _, r := range []struct {
		name string
		rate limits.Rate
	}{{"ADDRESS", c.Limits.Address}, {"ACCOUNT", c.Limits.Account}, {"REGISTER", c.Limits.Register}} {
		if r.rate.Burst < 1 || r.rate.Burst > 1000 {
			return fmt.Errorf("RATE_LIMIT_%s_BURST must be a whole number from 1 to 1000", r.name)
		}
		// At least 0.1 a minute: a token comes back within 10 minutes, the
		// longest Retry-After API.md §8 allows. The comparison refuses NaN.
		if !(r.rate.PerMinute >= 0.1 && r.rate.PerMinute <= 6000) {
			return fmt.Errorf("RATE_LIMIT_%s_PER_MINUTE must be a number from 0.1 to 6000", r.name)
		}
	}
	if w := c.Limits.MaxWait(); w > limits.MaxLockout {
		return fmt.Errorf("RATE_LIMIT_ADDRESS_BURST %d at RATE_LIMIT_ADDRESS_PER_MINUTE %g allows lockouts of %s; two bursts must refill within %s (lower the burst or raise the rate)",
			c.Limits.Address.Burst, c.Limits.Address.PerMinute, w.Round(time.Second), limits.MaxLockout)
	}
	if c.Limits.MaxKeys < 1000 || c.Limits.MaxKeys > 10_000_000 {
		return errors.New("RATE_LIMIT_MAX_KEYS must be a whole number from 1000 to 10000000")
	}
	if c.SigningKeyActivationDelay < 0 || c.SigningKeyActivationDelay > 24*time.Hour {
		return errors.New("SIGNING_KEY_ACTIVATION_DELAY must be a duration from 0s to 24h, like 10m")
	}
	if c.SigningKeyRotation != 0 && (c.SigningKeyRotation < time.Hour || c.SigningKeyRotation > 8760*time.Hour) {
		return errors.New("SIGNING_KEY_ROTATION must be 0 (rotate only by rotate-keys) or a duration from 1h to 8760h, like 720h")
	}
	if c.SigningKeyRotation != 0 && c.SigningKeyRotation <= c.SigningKeyActivationDelay {
		return errors.New("SIGNING_KEY_ROTATION must be longer than SIGNING_KEY_ACTIVATION_DELAY, or every key would be replaced before it signs")
	}
	if c.SecretKey != "" && len(c.SecretKey) < 32 {
		return errors.New("SECRET_KEY must be at least 32 characters (try: openssl rand -hex 32)")
	}
	return nil
}

// Proxies returns TRUSTED_PROXIES parsed: each entry a CIDR, or an IP
// address standing for itself, with its host bits cleared. The error
// names the setting and the entry.
func (c *Config) Proxies() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(c.TrustedProxies, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			a, aerr := netip.ParseAddr(f)
			if aerr != nil || a.Zone() != "" {
				return nil, fmt.Errorf("TRUSTED_PROXIES: %q is not a CIDR (such as 10.213.0.0/24) or an IP address", f)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// envDuration reads a duration from the environment; a malformed value
// becomes -1, which validate reports.
func envDuration(getenv func(string) string, key string, def time.Duration) time.Duration {
	v := getenv(key)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return -1
	}
	return d
}

// envInt reads a whole number from the environment; a malformed value
// becomes -1, which validate reports.
func envInt(getenv func(string) string, key string, def int) int {
	v := getenv(key)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return -1
	}
	return n
}

// envFloat reads a number from the environment; a malformed value becomes
// -1, which validate reports.
func envFloat(getenv func(string) string, key string, def float64) float64 {
	v := getenv(key)
	if v == "" {
		return def
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return -1
	}
	return f
}

// secretKey returns SECRET_KEY, or the key kept in DATA_DIR, generating it
// on first start so that sessions survive a restart.
func (c *Config) secretKey() ([]byte, error) {
	if c.SecretKey != "" {
		return []byte(c.SecretKey), nil
	}
	path := filepath.Join(c.DataDir, "secret_key")
	if b, err := os.ReadFile(path); err == nil {
		key := strings.TrimSpace(string(b))
		if len(key) < 32 {
			return nil, fmt.Errorf("%s holds fewer than 32 characters; delete it to generate a new key", path)
		}
		return []byte(key), nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read secret key: %w", err)
	}
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("DATA_DIR %q: %w", c.DataDir, err)
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	key := hex.EncodeToString(b[:])
	// Write a temporary file, then link it into place: the link fails if
	// another process got there first, and nobody ever reads a partial key.
	tmp, err := os.CreateTemp(c.DataDir, "secret_key.*")
	if err != nil {
		return nil, fmt.Errorf("write secret key: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.WriteString(key + "\n")
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Link(tmp.Name(), path)
	}
	if errors.Is(err, os.ErrExist) {
		return c.secretKey()
	}
	if err != nil {
		return nil, fmt.Errorf("write secret key: %w", err)
	}
	return []byte(key), nil
}
