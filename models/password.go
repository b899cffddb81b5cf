package models

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/crypto/argon2"
)

// Argon2Params are argon2id cost parameters.
type Argon2Params struct {
	MemoryKiB uint32
	Time      uint32
	Threads   uint8
}

// DefaultArgon2 is OWASP's minimum recommendation for argon2id
// (m=19 MiB, t=2, p=1): tens of milliseconds per hash, by design.
var DefaultArgon2 = Argon2Params{MemoryKiB: 19 * 1024, Time: 2, Threads: 1}

// TestArgon2 is a cheap setting for tests only; it protects nothing.
var TestArgon2 = Argon2Params{MemoryKiB: 64, Time: 1, Threads: 1}

// Passwords hashes and checks passwords with argon2id in PHC string format:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>.
type Passwords struct {
	Params Argon2Params

	dummyOnce sync.Once
	dummy     string
	hashes    atomic.Int64
}

// Hashes returns how many argon2id hashes p has computed, for tests that
// prove two paths cost the same work.
func (p *Passwords) Hashes() int64 { return p.hashes.Load() }

const argon2KeyLen = 32

var errBadHash = errors.New("models: malformed password hash")

// Hash returns a PHC string for password with a fresh 16-byte salt.
func (p *Passwords) Hash(password string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	p.hashes.Add(1)
	key := argon2IDKey(hashSlots, []byte(password), salt, p.Params.Time, p.Params.MemoryKiB, p.Params.Threads, argon2KeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version,
		p.Params.MemoryKiB, p.Params.Time, p.Params.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Check reports whether password matches the PHC string, with the
// parameters stored in it, in constant time. A malformed hash never matches.
func (p *Passwords) Check(hash, password string) bool {
	params, salt, key, err := parsePHC(hash)
	if err != nil {
		return false
	}
	p.hashes.Add(1)
	got := argon2IDKey(checkSlots, []byte(password), salt, params.Time, params.MemoryKiB, params.Threads, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1
}

// CheckDummy spends the time of one Check against a fixed hash and
// returns false. Callers use it when there is no such user, so that the
// response time does not tell whether a username exists.
func (p *Passwords) CheckDummy(password string) bool {
	p.dummyOnce.Do(func() {
		p.dummy, _ = p.Hash("dummy password, never a user's")
	})
	p.Check(p.dummy, password)
	return false
}

func parsePHC(s string) (Argon2Params, []byte, []byte, error) {
	var params Argon2Params
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return params, nil, nil, errBadHash
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &params.MemoryKiB, &params.Time, &params.Threads); err != nil {
		return params, nil, nil, errBadHash
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	key, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(key) < 16 || params.Time == 0 || params.Threads == 0 || params.MemoryKiB > 1<<21 {
		return params, nil, nil, errBadHash
	}
	// Only the form Hash writes is accepted: Sscanf ignores what follows
	// the last number, and base64 decoding ignores newlines and the unused
	// bits of the last character.
	if parts[3] != fmt.Sprintf("m=%d,t=%d,p=%d", params.MemoryKiB, params.Time, params.Threads) ||
		parts[4] != b64.EncodeToString(salt) || parts[5] != b64.EncodeToString(key) {
		return params, nil, nil, errBadHash
	}
	return params, salt, key, nil
}
