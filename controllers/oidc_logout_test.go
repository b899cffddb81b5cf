package controllers_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// RP-Initiated Logout (API.md §9): a signed-in user confirms on a page
// whose form is CSRF-checked; the session then ends for every copy of its
// cookie and the browser goes only to a registered
// post_logout_redirect_uri.

const byeURI = "https://buddy.example/bye?from=beerlocker"

// logoutEnv is an oauthEnv whose confidential app registered byeURI.
func newLogoutEnv(t *testing.T) *oauthEnv {
	e := newOAuthEnv(t)
	r := e.request("PATCH", "/api/clients/"+e.app.ID, map[string]any{"post_logout_redirect_uris": []string{byeURI}}, e.dev)
	wantStatus(t, r, http.StatusOK)
	return e
}

var hiddenField = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// logoutForm returns the fields of the logout confirmation page's form.
func logoutForm(t testing.TB, r *response) url.Values {
	t.Helper()
	wantStatus(t, r, http.StatusOK)
	wantBodyContains(t, r, `<button type="submit" name="logout">Log out</button>`)
	form := url.Values{}
	for _, m := range hiddenField.FindAllSubmatch(r.body, -1) {
		form.Add(string(m[1]), html.UnescapeString(string(m[2])))
	}
	if form.Get("csrf_token") == "" {
		t.Fatalf("no csrf_token in the logout page:\n%s", r.body)
	}
	return form
}

// wantSignedIn checks whether b's session still signs alice in.
func wantSignedIn(t testing.TB, b *browser, signedIn bool) {
	t.Helper()
	r := b.get("/account")
	if signedIn {
		wantStatus(t, r, http.StatusOK)
	} else {
		wantRedirect(t, r, http.StatusFound, "/login?return_to=%2Faccount")
	}
}

func logoutQuery(kv ...string) string {
	q := url.Values{}
	for i := 0; i < len(kv); i += 2 {
		q.Add(kv[i], kv[i+1])
	}
	return "/api/oauth2/logout?" + q.Encode()
}

// The relying party go-oidc finds the endpoint in discovery; the user
// confirms; the session ends for every copy of the cookie; the browser
// goes to the registered URI with state, its own query kept.
func TestRPInitiatedLogout(t *testing.T) {
	e := newLogoutEnv(t)
	ctx := context.Background()
	provider, err := oidc.NewProvider(oidc.InsecureIssuerURLContext(ctx, "http://localhost:3000"), e.server.URL)
	if err != nil {
		t.Fatal(err)
	}
	var discovered struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if err := provider.Claims(&discovered); err != nil {
		t.Fatal(err)
	}
	endpoint := strings.TrimPrefix(discovered.EndSession, "http://localhost:3000")
	if endpoint != "/api/oauth2/logout" {
		t.Fatalf("end_session_endpoint = %q", discovered.EndSession)
	}

	b := e.aliceBrowser()
	hint := e.idTokenFor(b, e.app, nil).IDToken
	saved := b.copyOf()

	page := b.get(logoutQuery("id_token_hint", hint, "post_logout_redirect_uri", byeURI, "state", "st<&>"))
	form := logoutForm(t, page)
	wantBodyContains(t, page, "Beer Buddy")
	wantSignedIn(t, b, true) // showing the question changes nothing

	r := b.post(endpoint, form)
	wantRedirect(t, r, http.StatusSeeOther, "https://buddy.example/bye?from=beerlocker&state=st%3C%26%3E")
	wantSignedIn(t, b, false)
	wantSignedIn(t, saved, false)

	// The session is gone: the same request again has nothing to confirm.
	wantRedirect(t, saved.get(logoutQuery("client_id", e.app.ID, "post_logout_redirect_uri", byeURI)),
		http.StatusSeeOther, byeURI)
}

func TestLogoutWithoutRedirect(t *testing.T) {
	e := newLogoutEnv(t)
	b := e.aliceBrowser()
	r := b.post("/api/oauth2/logout", logoutForm(t, b.get("/api/oauth2/logout")))
	wantRedirect(t, r, http.StatusSeeOther, "/signed-out")
	wantSignedIn(t, b, false)
	page := b.get("/signed-out")
	wantStatus(t, page, http.StatusOK)
	wantBodyContains(t, page, "You are signed out")
}

// An app's own form post (no csrf_token) is a request, not a
// confirmation: the user still decides.
func TestLogoutRequestedByPost(t *testing.T) {
	e := newLogoutEnv(t)
	b := e.aliceBrowser()
	form := logoutForm(t, b.post("/api/oauth2/logout", url.Values{"client_id": {e.app.ID}, "post_logout_redirect_uri": {byeURI}, "state": {"p"}}))
	wantSignedIn(t, b, true)
	if form.Get("client_id") != e.app.ID || form.Get("post_logout_redirect_uri") != byeURI || form.Get("state") != "p" {
		t.Errorf("confirmation form = %v, want the request's fields", form)
	}
	wantRedirect(t, b.post("/api/oauth2/logout", form), http.StatusSeeOther, byeURI+"&state=p")
}

func TestLogoutNeedsTheCSRFToken(t *testing.T) {
	e := newLogoutEnv(t)
	b := e.aliceBrowser()
	form := logoutForm(t, b.get(logoutQuery("client_id", e.app.ID, "post_logout_redirect_uri", byeURI)))
	form.Set("csrf_token", "forged")
	r := b.post("/api/oauth2/logout", form)
	wantErrorPage(t, r, http.StatusForbidden)
	wantSignedIn(t, b, true)

	// Another browser's token is no better.
	other := e.aliceBrowser()
	form.Set("csrf_token", logoutForm(t, other.get("/api/oauth2/logout")).Get("csrf_token"))
	wantErrorPage(t, b.post("/api/oauth2/logout", form), http.StatusForbidden)
	wantSignedIn(t, b, true)
}

// Nobody signed in: nothing to confirm, straight on.
func TestLogoutSignedOut(t *testing.T) {
	e := newLogoutEnv(t)
	b := e.newBrowser()
	wantRedirect(t, b.get(logoutQuery("client_id", e.app.ID, "post_logout_redirect_uri", byeURI, "state", "x")),
		http.StatusSeeOther, byeURI+"&state=x")
	wantRedirect(t, b.get("/api/oauth2/logout"), http.StatusSeeOther, "/signed-out")
	// A stale confirmation form after the session ended elsewhere.
	wantRedirect(t, b.post("/api/oauth2/logout", url.Values{"csrf_token": {"stale"}}), http.StatusSeeOther, "/signed-out")
}

// An expired ID token is still a hint (RP-Initiated Logout 1.0 §2).
func TestLogoutExpiredHint(t *testing.T) {
	e := newLogoutEnv(t)
	b := e.aliceBrowser()
	hint := e.idTokenFor(b, e.app, nil).IDToken
	e.clock.Advance(48 * time.Hour)
	b = e.aliceBrowser()
	form := logoutForm(t, b.get(logoutQuery("id_token_hint", hint, "post_logout_redirect_uri", byeURI)))
	if form.Get("client_id") != e.app.ID {
		t.Errorf("client_id in the form = %q, want the hint's app %s", form.Get("client_id"), e.app.ID)
	}
	wantRedirect(t, b.post("/api/oauth2/logout", form), http.StatusSeeOther, byeURI)
}

// Bad requests get the error page, 400, never a redirect, and the user
// stays signed in.
func TestLogoutBadRequests(t *testing.T) {
	e := newLogoutEnv(t)
	b := e.aliceBrowser()
	hint := e.idTokenFor(b, e.app, nil).IDToken
	other := e.mustCreateClient(e.dev, map[string]any{"name": "Other", "post_logout_redirect_uris": []string{"https://other.example/bye"}})
	dot := strings.LastIndexByte(hint, '.')
	tampered := hint[:dot-4] + "AAAA" + hint[dot:]
	cases := map[string]string{
		"unregistered URI":          logoutQuery("client_id", e.app.ID, "post_logout_redirect_uri", "https://evil.example/bye"),
		"another app's URI":         logoutQuery("client_id", e.app.ID, "post_logout_redirect_uri", "https://other.example/bye"),
		"URI differing in query":    logoutQuery("client_id", e.app.ID, "post_logout_redirect_uri", "https://buddy.example/bye"),
		"URI without an app":        logoutQuery("post_logout_redirect_uri", byeURI),
		"unknown client_id":         logoutQuery("client_id", "blci_nosuchapp", "post_logout_redirect_uri", byeURI),
		"tampered hint":             logoutQuery("id_token_hint", tampered, "post_logout_redirect_uri", byeURI),
		"hint that is no JWT":       logoutQuery("id_token_hint", "abc", "post_logout_redirect_uri", byeURI),
		"hint for another app":      logoutQuery("id_token_hint", hint, "client_id", other.ID, "post_logout_redirect_uri", "https://other.example/bye"),
		"repeated state":            logoutQuery("client_id", e.app.ID, "state", "a", "state", "b"),
		"repeated redirect URI":     logoutQuery("client_id", e.app.ID, "post_logout_redirect_uri", byeURI, "post_logout_redirect_uri", byeURI),
		"unknown kid in the hint":   logoutQuery("id_token_hint", `eyJhbGciOiJSUzI1NiIsImtpZCI6Im5vcGUifQ.e30.`+strings.Repeat("A", 342), "post_logout_redirect_uri", byeURI),
		"unsigned hint":             logoutQuery("id_token_hint", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", "client_id", e.app.ID),
		"redirect URI of no scheme": logoutQuery("client_id", e.app.ID, "post_logout_redirect_uri", "//evil.example/bye"),
	}
	for name, path := range cases {
		t.Run(name, func(t *testing.T) {
			wantErrorPage(t, b.get(path), http.StatusBadRequest)
			signedOut := e.newBrowser()
			wantErrorPage(t, signedOut.get(path), http.StatusBadRequest)
		})
	}
	wantSignedIn(t, b, true)
}
