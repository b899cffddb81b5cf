package controllers_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestConsentPerScope (API.md §11): the user unticks beers:write on the
// consent page; the code, the tokens and the remembered consent get only
// beers:read, the token response says so, the API refuses a write with
// insufficient_scope, a later request for beers:write asks again, and
// unticking everything is a Deny.
func TestConsentPerScope(t *testing.T) {
	e := newOAuthEnv(t)
	b := e.aliceBrowser()
	verifier, challenge := pkce()
	r := b.authorize(authQuery(e.app, "beers:read beers:write", "s1", challenge))
	wantStatus(t, r, http.StatusOK)
	for _, sc := range []string{"beers:read", "beers:write"} {
		wantBodyContains(t, r, `type="checkbox" name="scope" value="`+sc+`" form="consent-allow" checked`)
	}
	form := consentForm(t, r)
	form.Del("scope")
	form.Add("scope", "beers:read")
	form.Set("decision", "allow")
	r = b.post("/api/oauth2/authorize/decision", form)
	wantStatus(t, r, http.StatusSeeOther)
	code := location(t, r).Query().Get("code")
	tok := e.mustToken(&e.app, codeForm(e.app, code, verifier))
	if tok.Scope != "beers:read" {
		t.Errorf("token response scope = %q, want beers:read", tok.Scope)
	}
	wantStatus(t, e.request("GET", "/api/beers", nil, bearer(tok.AccessToken)), http.StatusOK)
	r = e.request("POST", "/api/beers", map[string]any{"name": "Unticked", "quantity": 1}, bearer(tok.AccessToken))
	wantStatus(t, r, http.StatusForbidden)
	if ch := r.Header.Get("WWW-Authenticate"); !strings.Contains(ch, `error="insufficient_scope", scope="beers:write"`) {
		t.Errorf("POST /api/beers with the unticked scope: WWW-Authenticate = %q", ch)
	}
	// The refresh token carries the narrowed grant too.
	refreshed := e.mustToken(&e.app, refreshForm(tok.RefreshToken, ""))
	if refreshed.Scope != "beers:read" {
		t.Errorf("refreshed scope = %q, want beers:read", refreshed.Scope)
	}
	if got := e.postForm("/api/oauth2/token", &e.app, refreshForm(refreshed.RefreshToken, "beers:read beers:write")); got.StatusCode != http.StatusBadRequest {
		t.Errorf("refresh asking for the unticked scope: %d %s", got.StatusCode, got.body)
	}

	// Remembered: beers:read alone goes straight through; asking for
	// beers:write again shows the page again.
	wantStatus(t, b.authorize(authQuery(e.app, "beers:read", "s2", challenge)), http.StatusFound)
	r = b.authorize(authQuery(e.app, "beers:read beers:write", "s3", challenge))
	wantStatus(t, r, http.StatusOK)

	// Nothing ticked: a Deny, and the remembered consent is as it was.
	form = consentForm(t, r)
	form.Del("scope")
	form.Set("decision", "allow")
	r = b.post("/api/oauth2/authorize/decision", form)
	wantStatus(t, r, http.StatusSeeOther)
	if q := location(t, r).Query(); q.Get("error") != "access_denied" || q.Get("code") != "" {
		t.Errorf("allow with nothing ticked redirected with %v, want access_denied", q)
	}
	wantStatus(t, b.authorize(authQuery(e.app, "beers:read", "s4", challenge)), http.StatusFound)

	// A wider decision replaces the narrower one: all of it is remembered.
	r = b.authorize(authQuery(e.app, "beers:read beers:write", "s5", challenge))
	form = consentForm(t, r)
	form.Set("decision", "allow")
	wantStatus(t, b.post("/api/oauth2/authorize/decision", form), http.StatusSeeOther)
	wantStatus(t, b.authorize(authQuery(e.app, "beers:read beers:write", "s6", challenge)), http.StatusFound)
	// And a narrower one replaces that, not merged with it.
	r = b.authorize(authQuery(e.app, "beers:read beers:write profile", "s7", challenge))
	form = consentForm(t, r)
	form.Del("scope")
	form.Add("scope", "profile")
	form.Set("decision", "allow")
	wantStatus(t, b.post("/api/oauth2/authorize/decision", form), http.StatusSeeOther)
	wantStatus(t, b.authorize(authQuery(e.app, "beers:read", "s8", challenge)), http.StatusOK)

	// A scope the app did not ask for cannot be ticked in.
	r = b.authorize(authQuery(e.app, "beers:read", "s9", challenge))
	form = consentForm(t, r)
	form.Add("scope", "clients")
	form.Set("decision", "allow")
	r = b.post("/api/oauth2/authorize/decision", form)
	wantStatus(t, r, http.StatusBadRequest)
	wantNoLocation(t, r)
}

// TestDeviceConsentPerScope: the device flow's consent page has the same
// checkboxes, and the device's tokens get only what stayed ticked.
func TestDeviceConsentPerScope(t *testing.T) {
	e := newDeviceEnv(t)
	da := e.mustDeviceAuth(e.tv, "profile beers:read beers:write")
	b := e.aliceBrowser()
	r := b.enterCode(da.UserCode)
	wantStatus(t, r, http.StatusOK)
	form := consentForm(t, r)
	form.Del("scope")
	form["scope"] = []string{"profile", "beers:read"}
	form.Set("decision", "allow")
	wantStatus(t, b.post("/device", form), http.StatusOK)
	r = e.poll(e.tv, da.DeviceCode)
	wantStatus(t, r, http.StatusOK)
	if got := r.json(t)["scope"]; got != "profile beers:read" {
		t.Errorf("device token scope = %v, want profile beers:read", got)
	}
	// Nothing ticked on the device page: the device hears access_denied.
	da = e.mustDeviceAuth(e.tv, "beers:read")
	r = b.enterCode(da.UserCode)
	form = consentForm(t, r)
	form.Del("scope")
	form.Set("decision", "allow")
	wantStatus(t, b.post("/device", form), http.StatusOK)
	wantOAuthError(t, e.poll(e.tv, da.DeviceCode), http.StatusBadRequest, "access_denied")
}
