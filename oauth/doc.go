// Package oauth implements the OAuth 2.0 authorization server: the
// authorization endpoint with PKCE and consent (RFC 6749 §4.1, RFC 7636),
// the token endpoint with the authorization code, refresh token, client
// credentials and password grants (RFC 6749 §4–6), the device
// authorization grant with its /device verification page (RFC 8628),
// client authentication, revocation (RFC 7009), introspection (RFC 7662)
// and server metadata (RFC 8414), plus verification of the bearer tokens it
// issues (RFC 6750). One file per grant (grant_*.go).
//
// The flows decide; they do not draw. What a browser sees (the consent
// page, the device pages, the error page) is drawn by package pages from
// the view the flow hands it, and a domain error becomes an OAuth error
// through the httperr table (errors.go).
//
// Tokens, codes and client secrets are opaque random strings with a short
// prefix per kind; only their SHA-256 hashes are stored.
package oauth
