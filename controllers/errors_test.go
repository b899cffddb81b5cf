package controllers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"beerlocker/pages"
)

// TestOversizedFormIs413Everywhere: a form body over the limit is 413 on
// every surface that reads a form, pages and OAuth endpoints alike, as
// the httperr table says (it was 413 on /login but 400 on the consent
// decision and /device).
func TestOversizedFormIs413Everywhere(t *testing.T) {
	e := newOAuthEnv(t)
	b := e.aliceBrowser()
	big := url.Values{"csrf_token": {b.csrfToken("/account")}, "pad": {strings.Repeat("a", pages.MaxFormBytes)}}
	for _, path := range []string{"/login", "/register", "/logout", "/account/apps/blci_x/revoke",
		"/api/oauth2/authorize", "/api/oauth2/authorize/decision", "/device", "/api/oauth2/token", "/api/oauth2/revoke"} {
		t.Run(path, func(t *testing.T) {
			r := b.post(path, big)
			if r.StatusCode != http.StatusRequestEntityTooLarge {
				t.Errorf("POST %s with a %d-byte form: %d, want 413\n%s", path, len(big.Encode()), r.StatusCode, r.body)
			}
		})
	}
}
