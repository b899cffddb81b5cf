package accounts

import (
	"context"
	"errors"
	"log/slog"

	"beerlocker/limits"
	"beerlocker/models"
	"beerlocker/security"
)

// PasswordAttempt is a user's username and password presented on one
// surface, with where it came from.
type PasswordAttempt struct {
	Username, Password string
	Address            string // the client address
	Via                string // "basic", "login" or "password_grant", for the security log
	// Fresh checks the password itself, never a cached check of it: the
	// routes that change the account ask for it, so that a credential an
	// instance still remembers cannot change a password back.
	Fresh bool
}

// CacheObserver counts credential cache lookups; *metrics.Metrics is one.
// Its method must accept a nil receiver when it is a nil pointer.
type CacheObserver interface {
	CacheLookup(cache string, hit bool)
}

// Verifier verifies users' own passwords: the one place where a password
// presented by Basic auth, the login page or the password grant is
// limited, checked and logged.
type Verifier struct {
	users  models.UserRepository
	hasher *models.Passwords
	cache  *CredentialCache
	limits *limits.Guard // nil for none
	logKey []byte        // key of the username pseudonyms in security logs
	log    *slog.Logger
	obs    CacheObserver
}

// VerifierConfig is what a Verifier uses.
type VerifierConfig struct {
	Users     models.UserRepository
	Passwords *models.Passwords
	Cache     *CredentialCache
	Limits    *limits.Guard // brute-force limits; nil for none
	LogKey    []byte        // key of the username pseudonyms in security logs
	Log       *slog.Logger
	Observer  CacheObserver // nil counts nothing
}

// NewVerifier returns a Verifier with cfg.
func NewVerifier(cfg VerifierConfig) *Verifier {
	obs := cfg.Observer
	if obs == nil {
		obs = noCacheObserver{}
	}
	return &Verifier{users: cfg.Users, hasher: cfg.Passwords, cache: cfg.Cache, limits: cfg.Limits,
		logKey: cfg.LogKey, log: cfg.Log, obs: obs}
}

type noCacheObserver struct{}

func (noCacheObserver) CacheLookup(string, bool) {}

// Cache returns the cache of verified credentials.
func (v *Verifier) Cache() *CredentialCache { return v.cache }

// Pseudonym names a username in the security log (security.Pseudonym
// under this verifier's key).
func (v *Verifier) Pseudonym(username string) string { return security.Pseudonym(v.logKey, username) }

// ErrPasswordChanged: the password a request was let in with stopped
// being the user's before what it made with it (a personal access token)
// was finished, so that was undone.
var ErrPasswordChanged = errors.New("accounts: the password changed meanwhile")

// Verified is a user whose password was just checked.
type Verified struct {
	UserID string
	// PasswordHash is the hash the password matched, for a Fresh attempt:
	// a caller that makes something lasting with the password (a personal
	// access token) compares it with the user's hash afterwards, to tell
	// whether the password changed meanwhile. "" for an answer from the
	// credential cache.
	PasswordHash string
}

// VerifyPassword returns the id of the user with that username and
// password, as Verify does.
func (v *Verifier) VerifyPassword(ctx context.Context, at PasswordAttempt) (string, error) {
	u, err := v.Verify(ctx, at)
	return u.UserID, err
}

// Verify returns the user with that username and password, or
// models.ErrNotFound, or a *limits.LimitedError without checking anything
// when the address or the account has failed too often (see
// limits.Guard), or the Guard's error (models.ErrUnavailable when its
// store is down) instead of an answer it could not limit. A pair verified
// in the last minute is answered from the credential cache, unless the
// attempt is Fresh; otherwise it costs one argon2id hash.
func (v *Verifier) Verify(ctx context.Context, at PasswordAttempt) (Verified, error) {
	account := limits.UserAccount(at.Username)
	// The limit comes before the cache too: a cache hit would otherwise
	// confirm a guess that matches a password used in the last minute.
	attempt, err := v.limits.Begin(ctx, at.Address, account)
	if err != nil {
		return Verified{}, err
	}
	defer attempt.Done()
	key := v.cache.Key(at.Username, at.Password)
	if !at.Fresh {
		userID, ok, err := v.cache.Get(ctx, key)
		if err != nil {
			return Verified{}, err
		}
		v.obs.CacheLookup("credentials", ok)
		if ok {
			return Verified{UserID: userID}, nil
		}
	}
	gen := v.cache.Generation()
	u, ok, err := checkPassword(ctx, v.users, v.hasher, at.Username, at.Password)
	if err != nil {
		return Verified{}, err
	}
	if !ok {
		who := slog.String("username_hash", v.Pseudonym(at.Username))
		if u != nil {
			who = slog.String("user_id", u.ID)
		}
		lo, err := attempt.Fail(ctx)
		security.LogFailure(ctx, v.log, security.EventLoginFailed, lo,
			slog.String("via", at.Via), slog.String("address", at.Address), who)
		if err != nil {
			return Verified{}, err // a guess not paid for is not answered: see limits.Guard
		}
		return Verified{}, models.ErrNotFound
	}
	v.cache.Put(key, u, gen)
	return Verified{UserID: u.ID, PasswordHash: u.PasswordHash}, nil
}

// CheckPassword verifies a username and password and returns the user, or
// models.ErrNotFound for an unknown user or a wrong password alike. It
// neither limits nor logs; requests go through Verifier.VerifyPassword.
func CheckPassword(ctx context.Context, users models.UserRepository, pw *models.Passwords, username, password string) (*models.User, error) {
	u, ok, err := checkPassword(ctx, users, pw, username, password)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, models.ErrNotFound
	}
	return u, nil
}

// checkPassword reports whether password is the user's; u is the user when
// the username exists, right password or not. An unknown user costs the
// same one argon2id hash as a wrong password (CheckDummy), so timing does
// not reveal which usernames exist.
func checkPassword(ctx context.Context, users models.UserRepository, pw *models.Passwords, username, password string) (u *models.User, ok bool, err error) {
	u, err = users.GetByUsername(ctx, username)
	if errors.Is(err, models.ErrNotFound) {
		return nil, pw.CheckDummy(password), nil
	}
	if err != nil {
		return nil, false, err
	}
	return u, pw.Check(u.PasswordHash, password), nil
}
