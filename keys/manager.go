package keys

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"beerlocker/models"
)

// JWKSPath is where the JWK Set is served: discovery's jwks_uri.
const JWKSPath = "/.well-known/jwks.json"

// Defaults and fixed periods.
const (
	// DefaultActivationDelay is how long a new key is published before it
	// signs: longer than relying parties keep a JWK Set (openid-client
	// refetches for an unknown kid only when its copy is over a minute
	// old), so none of them meets a kid it cannot fetch.
	DefaultActivationDelay = 10 * time.Minute
	// DefaultRotation is how often keys rotate by themselves.
	DefaultRotation = 30 * 24 * time.Hour
	// DefaultMaxTokenTTL is the longest a signed token may live: ID tokens
	// live at most an hour (API.md §9).
	DefaultMaxTokenTTL = time.Hour
	// RefreshEvery is how old a Manager's copy of the stored keys may get
	// before it reads them again: the bound, with room to spare, on how
	// late an instance sees a rotation made elsewhere (API.md §9: 60 s).
	RefreshEvery = 30 * time.Second
	// RetentionMargin is how much longer than MaxTokenTTL a key stays
	// published after it stopped signing. It covers an instance that has
	// not yet read the successor (RefreshEvery) and clocks that disagree
	// by a few minutes.
	RetentionMargin = 5 * time.Minute
)

// expSlack is how far beyond MaxTokenTTL Sign lets exp be, for a caller
// whose clock reads a moment later than the Manager's.
const expSlack = time.Minute

// retryEvery is how long a Manager that could not read the keys goes on
// with what it read last before it tries again, so that an outage does
// not cost every request a failed query.
const retryEvery = 5 * time.Second

// ErrInvalidToken means Verify refused a token: malformed, signed with an
// algorithm this server does not sign with, by a key it does not
// publish, or with a signature that does not match.
var ErrInvalidToken = errors.New("keys: invalid token")

// Config configures a Manager.
type Config struct {
	// Secret is SECRET_KEY, at least 32 bytes. The key that encrypts the
	// private keys is derived from it; the secret itself is not used.
	Secret []byte
	// ActivationDelay is how long after a rotation the new key starts
	// signing; 0 starts it at once (tests only: relying parties that
	// cached the JWK Set would meet an unknown kid).
	ActivationDelay time.Duration
	// Rotation is how long a key signs before Maintain rotates it; 0
	// rotates only when asked (Rotate).
	Rotation time.Duration
	// MaxTokenTTL is the longest lifetime Sign accepts for a token, and so
	// how long a retired key stays published; 0 means DefaultMaxTokenTTL.
	MaxTokenTTL time.Duration
	// Log receives the keys' events (created, deleted) and the failures of
	// background reads; nil discards them.
	Log *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Manager signs with, verifies with, publishes and rotates the keys of
// one store. It is safe for concurrent use.
type Manager struct {
	repo       models.SigningKeyRepository
	sealer     *sealer
	delay      time.Duration
	rotation   time.Duration
	maxTTL     time.Duration
	log        *slog.Logger
	now        func() time.Time
	verifyAlgs []jose.SignatureAlgorithm

	set atomic.Pointer[keySet] // nil until the first load

	mu         sync.Mutex           // serializes loads and writes
	materials  map[string]*material // kid → decrypted key, kept across loads
	lastForced time.Time            // the last load for an unknown kid
}

// New returns a Manager of the keys in repo. It reads nothing yet: the
// first call that needs the keys loads them, creating the first key of
// each algorithm if there is none.
func New(repo models.SigningKeyRepository, cfg Config) (*Manager, error) {
	if len(cfg.Secret) < 32 {
		return nil, errors.New("keys: the secret must be at least 32 bytes")
	}
	if cfg.ActivationDelay < 0 || cfg.Rotation < 0 || cfg.MaxTokenTTL < 0 {
		return nil, errors.New("keys: negative duration in Config")
	}
	s, err := newSealer(cfg.Secret)
	if err != nil {
		return nil, err
	}
	m := &Manager{
		repo: repo, sealer: s, delay: cfg.ActivationDelay, rotation: cfg.Rotation,
		maxTTL: cfg.MaxTokenTTL, log: cfg.Log, now: cfg.Now, materials: map[string]*material{},
	}
	if m.maxTTL == 0 {
		m.maxTTL = DefaultMaxTokenTTL
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	if m.now == nil {
		m.now = time.Now
	}
	for _, alg := range algorithms {
		m.verifyAlgs = append(m.verifyAlgs, jose.SignatureAlgorithm(alg))
	}
	return m, nil
}

// Algorithms returns the algorithms the Manager signs with, RS256 first:
// discovery's id_token_signing_alg_values_supported.
func (m *Manager) Algorithms() []string { return append([]string(nil), algorithms...) }

// Sign returns claims, marshalled to JSON, as a compact JWS (RFC 7515
// §7.1) with typ "JWT", signed with the current key of alg ("" means
// DefaultAlg), whose kid is in the header. claims must have an exp (a
// NumericDate) at most MaxTokenTTL from now: a longer-lived token could
// outlive the publication of its key.
func (m *Manager) Sign(ctx context.Context, alg string, claims any) (string, error) {
	if alg == "" {
		alg = DefaultAlg
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("keys: sign: %w", err)
	}
	var c struct {
		Exp *float64 `json:"exp"`
	}
	if err := json.Unmarshal(payload, &c); err != nil || c.Exp == nil {
		return "", errors.New("keys: sign: the claims are not a JSON object with an exp")
	}
	limit := m.now().Add(m.maxTTL + expSlack).Unix()
	if math.IsNaN(*c.Exp) || *c.Exp > float64(limit) {
		return "", fmt.Errorf("keys: sign: exp is more than %s from now", m.maxTTL)
	}
	s, err := m.keys(ctx)
	if err != nil {
		return "", err
	}
	e := s.signing[alg]
	if e == nil {
		return "", fmt.Errorf("keys: sign: unsupported algorithm %q", alg)
	}
	obj, err := e.signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("keys: sign: %w", err)
	}
	return obj.CompactSerialize()
}

// Verify checks that token is a compact JWS this server signed, with
// RS256 or ES256 and a key it publishes, and unmarshals its claims into
// claims (which may be nil). It checks nothing else: the caller checks
// iss, aud and exp as its rule requires (an id_token_hint, for one, may
// have expired: RP-Initiated Logout 1.0 §2). Every refusal is
// ErrInvalidToken; a store that cannot be read is its own error.
func (m *Manager) Verify(ctx context.Context, token string, claims any) error {
	tok, err := jwt.ParseSigned(token, m.verifyAlgs)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	if len(tok.Headers) != 1 {
		return fmt.Errorf("%w: not one signature", ErrInvalidToken)
	}
	h := tok.Headers[0]
	s, err := m.keys(ctx)
	if err != nil {
		return err
	}
	e := s.published[h.KeyID]
	if e == nil {
		// Perhaps a key another instance created since this one last read.
		if s, err = m.reloadForUnknownKid(ctx); err != nil {
			return err
		}
		if e = s.published[h.KeyID]; e == nil {
			return fmt.Errorf("%w: unknown kid", ErrInvalidToken)
		}
	}
	if h.Algorithm != e.row.Alg {
		return fmt.Errorf("%w: alg %s for a %s key", ErrInvalidToken, h.Algorithm, e.row.Alg)
	}
	var dest []any
	if claims != nil {
		dest = append(dest, claims)
	}
	if err := tok.Claims(e.public.Key, dest...); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidToken, err)
	}
	return nil
}

// JWKS returns the JWK Set document (RFC 7517 §5) of the published keys:
// public keys only, each with kid, kty, use "sig" and alg.
func (m *Manager) JWKS(ctx context.Context) ([]byte, error) {
	s, err := m.keys(ctx)
	if err != nil {
		return nil, err
	}
	return s.jwks, nil
}

// keys returns the current key set, reading the store again when the set
// is no longer valid.
func (m *Manager) keys(ctx context.Context) (*keySet, error) {
	if s := m.set.Load(); s != nil && m.now().Before(s.validUntil) {
		return s, nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if s := m.set.Load(); s != nil && m.now().Before(s.validUntil) {
		return s, nil // another caller read it meanwhile
	}
	s, err := m.loadLocked(ctx)
	if err == nil {
		return s, nil
	}
	old := m.set.Load()
	if old == nil {
		return nil, err
	}
	// Go on with the keys read last, at the present time, for a little
	// while: a request should not fail because a re-read did.
	now := m.now()
	m.log.WarnContext(ctx, "keys: reading the signing keys failed; using the ones read before", slog.String("err", err.Error()))
	s = buildSet(old.entries, now, m.Retention(), RefreshEvery)
	if retry := now.Add(retryEvery); retry.Before(s.validUntil) {
		s.validUntil = retry
	}
	m.set.Store(s)
	return s, nil
}

// reloadForUnknownKid reads the store again, at most once per retryEvery
// whatever kids tokens name, so that made-up kids cannot make every
// request a query.
func (m *Manager) reloadForUnknownKid(ctx context.Context) (*keySet, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if s := m.set.Load(); s != nil && now.Sub(m.lastForced) < retryEvery {
		return s, nil
	}
	m.lastForced = now
	return m.loadLocked(ctx)
}

// loadLocked reads the keys, creates the first key of any algorithm that
// has none, and builds and stores the set. It returns an error, and
// stores nothing, if any stored key does not decrypt.
func (m *Manager) loadLocked(ctx context.Context) (*keySet, error) {
	rows, err := m.repo.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("keys: list signing keys: %w", err)
	}
	created := false
	for _, alg := range algorithms {
		if hasAlg(rows, alg) {
			continue
		}
		now := m.now()
		if _, err := m.createLocked(ctx, alg, 1, now, now); err != nil && !errors.Is(err, models.ErrConflict) {
			return nil, err
		}
		created = true // by this instance, or by another that won the insert
	}
	if created {
		if rows, err = m.repo.List(ctx); err != nil {
			return nil, fmt.Errorf("keys: list signing keys: %w", err)
		}
	}
	entries := make([]entry, 0, len(rows))
	seen := make(map[string]bool, len(rows))
	for _, row := range rows {
		mat, err := m.materialLocked(row)
		if err != nil {
			return nil, err
		}
		entries = append(entries, entry{row, mat})
		seen[row.ID] = true
	}
	for kid := range m.materials {
		if !seen[kid] {
			delete(m.materials, kid)
		}
	}
	sortEntries(entries)
	s := buildSet(entries, m.now(), m.Retention(), RefreshEvery)
	m.set.Store(s)
	return s, nil
}

func hasAlg(rows []*models.SigningKey, alg string) bool {
	for _, r := range rows {
		if r.Alg == alg {
			return true
		}
	}
	return false
}

// materialLocked returns the decrypted key of row, decrypting it the
// first time its kid is seen.
func (m *Manager) materialLocked(row *models.SigningKey) (*material, error) {
	if mat := m.materials[row.ID]; mat != nil {
		return mat, nil
	}
	der, err := m.sealer.open(row.ID, row.Alg, row.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("keys: signing key %s (%s, generation %d) %w", row.ID, row.Alg, row.Generation, err)
	}
	priv, err := parse(row.ID, row.Alg, der)
	if err != nil {
		return nil, err
	}
	mat, err := newMaterial(row.ID, row.Alg, priv)
	if err != nil {
		return nil, err
	}
	m.materials[row.ID] = mat
	return mat, nil
}

// createLocked generates, seals and stores generation gen of alg. It
// returns models.ErrConflict when another key holds that generation.
func (m *Manager) createLocked(ctx context.Context, alg string, gen int64, createdAt, activeAt time.Time) (*models.SigningKey, error) {
	priv, kid, err := generate(alg)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("keys: marshal %s key: %w", alg, err)
	}
	mat, err := newMaterial(kid, alg, priv)
	if err != nil {
		return nil, err
	}
	row := &models.SigningKey{
		ID: kid, Alg: alg, Generation: gen, PrivateKey: m.sealer.seal(kid, alg, der),
		CreatedAt: createdAt, ActiveAt: activeAt,
	}
	if err := m.repo.Create(ctx, row); err != nil {
		if errors.Is(err, models.ErrConflict) {
			return nil, err
		}
		return nil, fmt.Errorf("keys: create signing key: %w", err)
	}
	m.materials[kid] = mat
	m.log.InfoContext(ctx, "signing key created", slog.String("kid", kid), slog.String("alg", alg),
		slog.Int64("generation", gen), slog.Time("active_at", activeAt))
	return row, nil
}

// Rotate publishes the next key of every algorithm at once; each starts
// signing ActivationDelay from now. It reads (and so decrypts) the stored
// keys first, creating the first ones if there are none, so that under a
// wrong SECRET_KEY it writes nothing. It returns the new keys, without
// their private halves. A rotation made by another instance at the same
// moment takes the place of this one for its algorithm: its key is
// returned instead.
func (m *Manager) Rotate(ctx context.Context) ([]*models.SigningKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, err := m.loadLocked(ctx)
	if err != nil {
		return nil, err
	}
	if len(s.entries)+len(algorithms) > models.MaxSigningKeys {
		return nil, fmt.Errorf("keys: rotate: %d signing keys are stored already; retired keys are deleted %s after they stop signing",
			len(s.entries), m.Retention())
	}
	var out []*models.SigningKey
	for _, alg := range algorithms {
		gen := s.latest[alg].row.Generation + 1
		now := m.now()
		row, err := m.createLocked(ctx, alg, gen, now, now.Add(m.delay))
		if errors.Is(err, models.ErrConflict) {
			row, err = m.findLocked(ctx, alg, gen)
		}
		if err != nil {
			return nil, err
		}
		c := *row
		c.PrivateKey = nil
		out = append(out, &c)
	}
	if _, err := m.loadLocked(ctx); err != nil {
		return nil, err
	}
	return out, nil
}

// Retention is how long a key stays published after it stopped signing:
// MaxTokenTTL and RetentionMargin.
func (m *Manager) Retention() time.Duration { return m.maxTTL + RetentionMargin }

// findLocked returns the stored key of that generation of alg.
func (m *Manager) findLocked(ctx context.Context, alg string, gen int64) (*models.SigningKey, error) {
	rows, err := m.repo.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("keys: list signing keys: %w", err)
	}
	for _, r := range rows {
		if r.Alg == alg && r.Generation == gen {
			return r, nil
		}
	}
	return nil, fmt.Errorf("keys: the %s key of generation %d was taken and is gone", alg, gen)
}

// Maintain does one round of upkeep: it reads the keys (creating the
// first ones if there are none), rotates every algorithm whose newest key
// is Rotation old, and deletes the keys past their life. Every instance
// may run it; the store decides between instances that rotate at once.
func (m *Manager) Maintain(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, err := m.loadLocked(ctx)
	if err != nil {
		return err
	}
	changed := false
	now := m.now()
	for _, alg := range algorithms {
		latest := s.latest[alg]
		if m.rotation == 0 || latest == nil || now.Before(latest.row.CreatedAt.Add(m.rotation)) {
			continue
		}
		_, err := m.createLocked(ctx, alg, latest.row.Generation+1, now, now.Add(m.delay))
		if err != nil && !errors.Is(err, models.ErrConflict) {
			return err
		}
		changed = true
	}
	for _, e := range s.expired {
		err := m.repo.Delete(ctx, e.row.ID)
		if err != nil && !errors.Is(err, models.ErrNotFound) {
			return fmt.Errorf("keys: delete signing key: %w", err)
		}
		if err == nil {
			m.log.InfoContext(ctx, "signing key deleted", slog.String("kid", e.row.ID), slog.String("alg", e.row.Alg),
				slog.Int64("generation", e.row.Generation))
		}
		changed = true
	}
	if changed {
		_, err = m.loadLocked(ctx)
	}
	return err
}

// Run calls Maintain every RefreshEvery until ctx ends, logging what
// fails. It also keeps this instance's copy of the keys fresh when no
// request asks for them.
func (m *Manager) Run(ctx context.Context) {
	t := time.NewTicker(RefreshEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := m.Maintain(ctx); err != nil && ctx.Err() == nil {
			m.log.WarnContext(ctx, "keys: upkeep of the signing keys failed", slog.String("err", err.Error()))
		}
	}
}
