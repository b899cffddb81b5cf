package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"fmt"

	"github.com/go-jose/go-jose/v4"
)

// The algorithms the provider signs with.
const (
	RS256 = "RS256" // RSASSA-PKCS1-v1_5 with SHA-256, RSA 2048: every relying party supports it
	ES256 = "ES256" // ECDSA P-256 with SHA-256
)

// DefaultAlg is the algorithm of a client that registered no
// id_token_signed_response_alg (OpenID Connect Registration 1.0 §2).
const DefaultAlg = RS256

// algorithms are the ones a Manager keeps keys for, RS256 first, as
// discovery lists them.
var algorithms = []string{RS256, ES256}

// rsaBits is the size of RS256 keys (RFC 7518 §3.3: 2048 or larger).
const rsaBits = 2048

// material is a decrypted key, ready to sign and to publish.
type material struct {
	signer jose.Signer
	public jose.JSONWebKey // the public half only, with kid, alg and use
}

// generate makes a new private key for alg and returns it with its kid,
// the RFC 7638 thumbprint of its public key.
func generate(alg string) (crypto.Signer, string, error) {
	var priv crypto.Signer
	var err error
	switch alg {
	case RS256:
		priv, err = rsa.GenerateKey(rand.Reader, rsaBits)
	case ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		return nil, "", fmt.Errorf("keys: no key type for algorithm %q", alg)
	}
	if err != nil {
		return nil, "", fmt.Errorf("keys: generate %s key: %w", alg, err)
	}
	kid, err := thumbprint(priv.Public())
	return priv, kid, err
}

// thumbprint is the RFC 7638 SHA-256 thumbprint of a public key,
// base64url-encoded: a kid that names the key and no other.
func thumbprint(pub crypto.PublicKey) (string, error) {
	jwk := jose.JSONWebKey{Key: pub}
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("keys: thumbprint: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(tp), nil
}

// newMaterial prepares priv, of alg, named kid, to sign and be published.
func newMaterial(kid, alg string, priv crypto.Signer) (*material, error) {
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.SignatureAlgorithm(alg), Key: jose.JSONWebKey{Key: priv, KeyID: kid, Algorithm: alg}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return nil, fmt.Errorf("keys: signer for %s: %w", kid, err)
	}
	return &material{
		signer: signer,
		public: jose.JSONWebKey{Key: priv.Public(), KeyID: kid, Algorithm: alg, Use: "sig"},
	}, nil
}

// parse turns the PKCS #8 form back into a key, and checks that it is a
// key of alg's type and size and that its thumbprint is kid.
func parse(kid, alg string, der []byte) (crypto.Signer, error) {
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("keys: signing key %s: %w", kid, err)
	}
	var ok bool
	switch k := k.(type) {
	case *rsa.PrivateKey:
		ok = alg == RS256 && k.N.BitLen() >= rsaBits
	case *ecdsa.PrivateKey:
		ok = alg == ES256 && k.Curve == elliptic.P256()
	}
	if !ok {
		return nil, fmt.Errorf("keys: signing key %s is a %T, not a key for %s", kid, k, alg)
	}
	priv := k.(crypto.Signer)
	if tp, err := thumbprint(priv.Public()); err != nil || tp != kid {
		return nil, fmt.Errorf("keys: signing key %s: its public key has another thumbprint", kid)
	}
	return priv, nil
}
