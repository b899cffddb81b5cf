// Package keys holds the OpenID Connect provider's signing keys (API.md §9
// "Keys"): it generates them, keeps them in the database with their
// private halves encrypted, signs tokens with the current one, verifies
// tokens this server signed, publishes the public keys as a JWK Set
// (RFC 7517 §5), and rotates them. JWS and JWK are go-jose's.
//
// # Keys and their lives
//
// Each algorithm (RS256, RSA 2048; ES256, P-256) has a chain of keys
// numbered by generation. A key is published from the moment it is
// created. It signs from its ActiveAt until a later generation of its
// algorithm is active: the first key at once, every later one
// Config.ActivationDelay after its rotation, so that relying parties have
// fetched it before they meet it. A key that stopped signing stays
// published for Config.MaxTokenTTL plus RetentionMargin, by which time
// every token it signed has expired (Sign refuses a token that would live
// longer), and is then deleted. All of this is worked out from the stored
// keys and the clock, so every instance on one database reaches the same
// answer, and a key set that one instance read a little late is never
// wrong for long.
//
// # Instances
//
// A Manager reads the keys again at most RefreshEvery after it last did,
// and at the next moment a key starts signing or leaves the set, so a
// rotation made by another instance (or by `beerlocker rotate-keys`) is
// seen within RefreshEvery. The first start and a rotation create the
// next generation with one insert that the store refuses twice
// (models.SigningKeyRepository.Create), so two instances starting or
// rotating together end with one key per generation, never two that both
// sign.
//
// # At rest
//
// A private key is stored as PKCS #8, sealed with AES-256-GCM under a key
// derived from SECRET_KEY with HKDF-SHA256 (never the secret itself). The
// key id and algorithm are the additional data, so a sealed key moved to
// another row does not open. A key that does not open, because SECRET_KEY
// changed or the row was altered, is ErrUndecryptable, and the Manager
// uses none of the keys rather than some.
package keys
