package oauth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strings"
	"time"

	"beerlocker/models"
)

// Sealer makes self-contained access tokens: the token's record, sealed
// with AES-256-GCM under a key only this service holds, so that issuing
// one writes nothing and checking one reads nothing. To a client it is as
// opaque as a random token. A stored access token (a random value) stays
// valid until it expires; Server.lookupToken tells them apart by length.
//
// The plaintext is a version byte, 20 random bytes (with the 12 of the
// nonce, each token carries 32 random bytes, as a random one does), then
// the times as Unix microseconds
// (issued, expires, grant began, auth_time; 0 for none), then the client,
// user, family and scopes, each a length and its bytes, then (version 2)
// the audience. A version 1 token, sealed before audiences, opens with the
// zero audience: the REST API, all it was valid at.
type Sealer struct{ aead cipher.AEAD }

const (
	sealVersion = 2
	sealRandom  = 20
	// storedAccessTokenLen is the length of a random access token.
	storedAccessTokenLen = len(prefixAccessToken) + 43
	// maxAccessTokenLen bounds what is worth opening.
	maxAccessTokenLen = 1024
)

// NewSealer returns a Sealer with a 32-byte key.
func NewSealer(key []byte) (*Sealer, error) {
	if len(key) != 32 {
		return nil, errors.New("oauth: the access token key must be 32 bytes")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead}, nil
}

// additionalData binds a sealed token to its prefix (the version byte is
// in the authenticated plaintext).
var additionalData = []byte(prefixAccessToken + "1")

// Seal returns the value of the access token t.
func (s *Sealer) Seal(t *models.Token) string {
	scopes := models.ScopeString(t.Scopes)
	plain := make([]byte, 1+sealRandom, 1+sealRandom+4*binary.MaxVarintLen64+4*binary.MaxVarintLen16+1+len(t.ClientID)+len(t.UserID)+len(t.FamilyID)+len(scopes))
	plain[0] = sealVersion
	if _, err := rand.Read(plain[1:]); err != nil {
		panic("oauth: crypto/rand failed: " + err.Error())
	}
	for _, tm := range []time.Time{t.CreatedAt, t.ExpiresAt, t.GrantedAt, t.AuthTime} {
		plain = binary.AppendUvarint(plain, micros(tm))
	}
	for _, v := range []string{t.ClientID, t.UserID, t.FamilyID, scopes} {
		plain = binary.AppendUvarint(plain, uint64(len(v)))
		plain = append(plain, v...)
	}
	plain = binary.AppendUvarint(plain, uint64(t.Audience))
	nonceSize := s.aead.NonceSize()
	out := make([]byte, nonceSize, nonceSize+len(plain)+s.aead.Overhead())
	if _, err := rand.Read(out); err != nil {
		panic("oauth: crypto/rand failed: " + err.Error())
	}
	out = s.aead.Seal(out, out[:nonceSize], plain, additionalData)
	return prefixAccessToken + base64.RawURLEncoding.EncodeToString(out)
}

// Open returns the token sealed in value, with its Hash set, or false
// when value was not sealed by this key (or was changed). It does not
// check expiry or revocation.
func (s *Sealer) Open(value string) (*models.Token, bool) {
	enc, ok := strings.CutPrefix(value, prefixAccessToken)
	if !ok || len(value) > maxAccessTokenLen {
		return nil, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(enc)
	nonceSize := s.aead.NonceSize()
	if err != nil || len(raw) < nonceSize+s.aead.Overhead() {
		return nil, false
	}
	plain, err := s.aead.Open(raw[nonceSize:nonceSize], raw[:nonceSize], raw[nonceSize:], additionalData)
	if err != nil || len(plain) < 1+sealRandom || plain[0] < 1 || plain[0] > sealVersion {
		return nil, false
	}
	d := decoder{b: plain[1+sealRandom:]}
	t := &models.Token{Kind: models.AccessToken, Hash: HashSecret(value)}
	t.CreatedAt, t.ExpiresAt, t.GrantedAt, t.AuthTime = d.time(), d.time(), d.time(), d.time()
	t.ClientID, t.UserID, t.FamilyID = d.str(), d.str(), d.str()
	scopes := d.str()
	if plain[0] >= 2 {
		t.Audience = models.Audience(d.uvarint())
	}
	if d.bad || len(d.b) != 0 || !t.Audience.Valid() {
		return nil, false
	}
	t.Scopes = strings.Fields(scopes)
	return t, true
}

func micros(t time.Time) uint64 {
	if t.IsZero() {
		return 0
	}
	return uint64(t.UnixMicro())
}

// decoder reads what Seal wrote; a short or malformed input sets bad.
type decoder struct {
	b   []byte
	bad bool
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.bad = true
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) time() time.Time {
	v := d.uvarint()
	if v == 0 || v > 1<<62 {
		return time.Time{}
	}
	return time.UnixMicro(int64(v)).UTC()
}

func (d *decoder) str() string {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.bad = true
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}
