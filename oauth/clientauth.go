package oauth

import (
	"context"
	"encoding/base64"
	"errors"
	"net/url"
	"strings"

	"beerlocker/limits"
	"beerlocker/models"
)

// clientCredentials are what a request presented to authenticate a client.
type clientCredentials struct {
	id, secret string
	basic      bool // client_secret_basic was used
	hasSecret  bool
}

// readClientCredentials extracts client credentials from the Authorization
// header (client_secret_basic) or the form (client_secret_post, or none
// with only client_id). Using two methods at once is refused (RFC 6749 §2.3).
func readClientCredentials(authorization string, form url.Values) (clientCredentials, *Error) {
	if authorization != "" {
		scheme, cred, _ := strings.Cut(authorization, " ")
		if !strings.EqualFold(scheme, "Basic") {
			return clientCredentials{}, errInvalidClient("Client authentication must use HTTP Basic.", true)
		}
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
		if err != nil {
			return clientCredentials{}, errInvalidClient("The Basic credentials are not valid base64.", true)
		}
		rawID, rawSecret, ok := strings.Cut(string(raw), ":")
		// RFC 6749 §2.3.1: id and secret are form-urlencoded before Basic encoding.
		id, err1 := url.QueryUnescape(rawID)
		secret, err2 := url.QueryUnescape(rawSecret)
		if !ok || err1 != nil || err2 != nil || id == "" {
			return clientCredentials{}, errInvalidClient("The Basic credentials are malformed.", true)
		}
		if _, ok := form["client_secret"]; ok { // even empty, it is a second method
			return clientCredentials{}, errInvalidRequest("Use one client authentication method, not Basic and client_secret together.")
		}
		if fid := form.Get("client_id"); fid != "" && fid != id {
			return clientCredentials{}, errInvalidRequest("client_id in the body differs from the Basic credentials.")
		}
		return clientCredentials{id: id, secret: secret, basic: true, hasSecret: true}, nil
	}
	id := form.Get("client_id")
	if id == "" {
		return clientCredentials{}, errInvalidClient("Client authentication is required.", false)
	}
	_, hasSecret := form["client_secret"]
	return clientCredentials{id: id, secret: form.Get("client_secret"), hasSecret: hasSecret}, nil
}

// authenticateClient checks the credentials from addr against the stored
// client: confidential clients must present their secret (compared in
// constant time against its hash), public clients must present none.
// Failures count against addr and the client_id (API.md §8); too many, and
// nothing is checked: 429. Concurrent attempts are admitted in turn (see
// limits.Guard.Begin), so sending them together gains nothing. When the Guard's store is down nothing is
// checked either: its error (models.ErrUnavailable) is returned.
func (s *Server) authenticateClient(ctx context.Context, addr string, cred clientCredentials) (*models.Client, error) {
	attempt, err := s.Limits.Begin(ctx, addr, limits.ClientAccount(cred.id))
	if err != nil {
		return nil, err
	}
	defer attempt.Done()
	client, err := s.lookupClient(ctx, cred.id, addr)
	var docErr *clientDocumentError
	if errors.Is(err, models.ErrNotFound) {
		return nil, s.clientAuthFailed(ctx, attempt, addr, cred.id, "unknown_client", errInvalidClient("Client authentication failed.", cred.basic))
	}
	if errors.As(err, &docErr) {
		return nil, s.clientAuthFailed(ctx, attempt, addr, cred.id, "client_metadata_document", errInvalidClient("Client authentication failed: "+docErr.Error()+".", cred.basic))
	}
	if err != nil {
		return nil, err
	}
	if client.Public {
		if cred.hasSecret {
			return nil, s.clientAuthFailed(ctx, attempt, addr, cred.id, "secret_for_public_client",
				errInvalidClient("This is a public client; it has no secret to send.", cred.basic))
		}
		return client, nil
	}
	if !cred.hasSecret || !secretMatches(cred.secret, client.SecretHash) {
		return nil, s.clientAuthFailed(ctx, attempt, addr, cred.id, "wrong_secret", errInvalidClient("Client authentication failed.", cred.basic))
	}
	return client, nil
}
