package keys

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
)

// sealVersion is the first byte of every sealed key, so that the format
// can change without guessing.
const sealVersion = 1

// hkdfInfo names the purpose of the derived key: no other use of
// SECRET_KEY derives the same one.
const hkdfInfo = "beerlocker signing keys v1"

// ErrUndecryptable means a stored private key did not decrypt: it was
// sealed under another SECRET_KEY, or the row was altered.
var ErrUndecryptable = errors.New("cannot be decrypted with this SECRET_KEY: it was encrypted under another SECRET_KEY, or altered in the database")

// sealer encrypts private keys at rest.
type sealer struct{ aead cipher.AEAD }

func newSealer(secret []byte) (*sealer, error) {
	key, err := hkdf.Key(sha256.New, secret, nil, hkdfInfo, 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key) // 32 bytes: AES-256
	if err != nil {
		return nil, err
	}
	// A random 96-bit nonce per seal, prepended: safe for far more keys
	// than a server ever makes.
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return nil, err
	}
	return &sealer{aead}, nil
}

// additionalData binds a sealed key to its row.
func additionalData(kid, alg string) []byte {
	return []byte("beerlocker signing key v1\x00" + alg + "\x00" + kid)
}

// seal returns the version byte, then nonce, ciphertext and tag.
func (s *sealer) seal(kid, alg string, plaintext []byte) []byte {
	return s.aead.Seal([]byte{sealVersion}, nil, plaintext, additionalData(kid, alg))
}

// open returns the plaintext of seal(kid, alg, …), or ErrUndecryptable.
func (s *sealer) open(kid, alg string, sealed []byte) ([]byte, error) {
	if len(sealed) < 1+s.aead.Overhead() || sealed[0] != sealVersion {
		return nil, ErrUndecryptable
	}
	plaintext, err := s.aead.Open(nil, nil, sealed[1:], additionalData(kid, alg))
	if err != nil {
		return nil, ErrUndecryptable
	}
	return plaintext, nil
}
