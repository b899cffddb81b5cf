package httperr

import (
	"net/http"
	"strconv"
)

// Realm names this server in every WWW-Authenticate challenge.
const Realm = "beerlocker"

// Every Bearer challenge names, as resource_metadata, the URL of the
// protected-resource metadata of the resource that refused (RFC 9728
// §5.1), so that a client that knows nothing else finds the authorization
// server from it (API.md §10); "" leaves it out.

// ChallengeAPI adds the two challenges of a 401 on an API route (API.md
// §1): Bearer first, with error="invalid_token" when a bearer token was
// sent and rejected (RFC 6750 §3.1), then Basic. Clients that read only
// one challenge read the Bearer one.
func ChallengeAPI(h http.Header, invalidToken bool, resourceMetadata string) {
	h.Add("WWW-Authenticate", bearerChallenge(invalidToken, resourceMetadata))
	h.Add("WWW-Authenticate", `Basic realm="`+Realm+`"`)
}

// ChallengeBearer sets the Bearer-only challenge of a 401 at an endpoint
// that takes no Basic credentials, such as UserInfo and the MCP endpoint.
func ChallengeBearer(h http.Header, invalidToken bool, resourceMetadata string) {
	h.Set("WWW-Authenticate", bearerChallenge(invalidToken, resourceMetadata))
}

// bearerChallenge is the Bearer challenge (RFC 6750 §3), with
// error="invalid_token" when a token was sent and refused.
func bearerChallenge(invalidToken bool, resourceMetadata string) string {
	bearer := `Bearer realm="` + Realm + `"`
	if invalidToken {
		bearer += `, error="invalid_token"`
	}
	return withResourceMetadata(bearer, resourceMetadata)
}

// ChallengeScope sets the challenge of a 403 for a token that lacks scope
// (RFC 6750 §3.1 insufficient_scope).
func ChallengeScope(h http.Header, scope, resourceMetadata string) {
	h.Set("WWW-Authenticate", withResourceMetadata(`Bearer realm="`+Realm+`", error="insufficient_scope", scope="`+scope+`"`, resourceMetadata))
}

func withResourceMetadata(challenge, url string) string {
	if url == "" {
		return challenge
	}
	return challenge + `, resource_metadata="` + url + `"`
}

// ChallengeClient sets the Basic challenge of a 401 invalid_client for a
// client that authenticated with HTTP Basic (RFC 6749 §5.2).
func ChallengeClient(h http.Header) {
	h.Set("WWW-Authenticate", `Basic realm="`+Realm+`"`)
}

// SetRetryAfter sets the answer's Retry-After, if it has one.
func (a Answer) SetRetryAfter(h http.Header) {
	if a.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(a.RetryAfter))
	}
}
