package controllers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// allowWith presses Allow on the consent page r with every scope ticked
// and the lifetime chosen ("" for until revoked).
func allowWith(t *testing.T, b *browser, r *response, lifetime string) *response {
	t.Helper()
	wantStatus(t, r, http.StatusOK)
	form := consentForm(t, r)
	form.Set("lifetime", lifetime)
	form.Set("decision", "allow")
	return b.post("/api/oauth2/authorize/decision", form)
}

// TestGrantLifetime (API.md §11): "1 hour" on the consent page ends the
// grant an hour after the decision. The access token's expires_in stops
// at the end, a refresh never extends it, the refresh token dies at the
// end too, /account shows it, and afterwards the app has to ask again.
func TestGrantLifetime(t *testing.T) {
	e := newOAuthEnv(t)
	b := e.aliceBrowser()
	verifier, challenge := pkce()
	decided := e.clock.Now()
	r := allowWith(t, b, b.authorize(authQuery(e.app, "beers:read", "s", challenge)), "1h")
	wantStatus(t, r, http.StatusSeeOther)
	tok := e.mustToken(&e.app, codeForm(e.app, location(t, r).Query().Get("code"), verifier))
	if tok.ExpiresIn > 3600 || tok.ExpiresIn < 3500 {
		t.Errorf("access token expires_in = %d at the start of a 1 h grant, want at most 3600", tok.ExpiresIn)
	}
	page := b.get("/account")
	wantBodyContains(t, page, "until "+decided.Add(time.Hour).UTC().Format("2 January 2006, 15:04 UTC"))

	// 40 minutes in: the refresh works and gives no more than the rest.
	e.clock.Advance(40 * time.Minute)
	refreshed := e.mustToken(&e.app, refreshForm(tok.RefreshToken, ""))
	if refreshed.ExpiresIn > 20*60 || refreshed.ExpiresIn < 19*60 {
		t.Errorf("refreshed expires_in = %d 40 min into a 1 h grant, want about 1200", refreshed.ExpiresIn)
	}
	wantStatus(t, e.request("GET", "/api/beers", nil, bearer(refreshed.AccessToken)), http.StatusOK)

	// Past the end: nothing of the grant works, and the app asks again.
	e.clock.Advance(21 * time.Minute)
	wantStatus(t, e.request("GET", "/api/beers", nil, bearer(refreshed.AccessToken)), http.StatusUnauthorized)
	wantOAuthError(t, e.postForm("/api/oauth2/token", &e.app, refreshForm(refreshed.RefreshToken, "")), http.StatusBadRequest, "invalid_grant")
	wantStatus(t, b.authorize(authQuery(e.app, "beers:read", "s2", challenge)), http.StatusOK)
	if page := b.get("/account"); strings.Contains(string(page.body), "Beer Buddy") {
		t.Errorf("/account still lists the ended grant:\n%s", page.body)
	}
}

// TestGrantLifetimeChoices: the other choices, and a value the page does
// not offer.
func TestGrantLifetimeChoices(t *testing.T) {
	e := newOAuthEnv(t)
	b := e.aliceBrowser()
	verifier, challenge := pkce()
	// "1 day": the access token keeps its hour, the refresh token lasts a
	// day, not 30, and a refresh 23 h in still works, 25 h in not.
	r := allowWith(t, b, b.authorize(authQuery(e.app, "beers:read", "s", challenge)), "1d")
	tok := e.mustToken(&e.app, codeForm(e.app, location(t, r).Query().Get("code"), verifier))
	if tok.ExpiresIn != 3600 {
		t.Errorf("1 day: expires_in = %d, want 3600", tok.ExpiresIn)
	}
	e.clock.Advance(23 * time.Hour)
	tok = e.mustToken(&e.app, refreshForm(tok.RefreshToken, ""))
	if tok.ExpiresIn > 3600 || tok.ExpiresIn < 3500 {
		t.Errorf("1 day, 23 h in: expires_in = %d, want at most the hour left", tok.ExpiresIn)
	}
	e.clock.Advance(2 * time.Hour)
	wantOAuthError(t, e.postForm("/api/oauth2/token", &e.app, refreshForm(tok.RefreshToken, "")), http.StatusBadRequest, "invalid_grant")

	// "Until I revoke it", the default: a refresh 25 h in works. (A
	// browser session lasts 12 h: sign in again.)
	b = e.aliceBrowser()
	r = allowWith(t, b, b.authorize(authQuery(e.app, "beers:read beers:write", "s2", challenge)), "")
	tok = e.mustToken(&e.app, codeForm(e.app, location(t, r).Query().Get("code"), verifier))
	e.clock.Advance(25 * time.Hour)
	e.mustToken(&e.app, refreshForm(tok.RefreshToken, ""))
	b = e.aliceBrowser()
	wantBodyContains(t, b.get("/account"), "until you revoke it")

	for _, bad := range []string{"2h", "forever", "30D"} {
		r := b.authorize(authQuery(e.app, "profile", "s3", challenge))
		form := consentForm(t, r)
		form.Set("lifetime", bad)
		form.Set("decision", "allow")
		r = b.post("/api/oauth2/authorize/decision", form)
		wantStatus(t, r, http.StatusBadRequest)
		wantNoLocation(t, r)
	}
}

// TestDeviceGrantLifetime: the device flow's consent page offers the same
// choice, and the device's tokens end with it.
func TestDeviceGrantLifetime(t *testing.T) {
	e := newDeviceEnv(t)
	da := e.mustDeviceAuth(e.tv, "beers:read")
	b := e.aliceBrowser()
	r := b.enterCode(da.UserCode)
	form := consentForm(t, r)
	form.Set("lifetime", "1h")
	form.Set("decision", "allow")
	wantStatus(t, b.post("/device", form), http.StatusOK)
	r = e.poll(e.tv, da.DeviceCode)
	wantStatus(t, r, http.StatusOK)
	refresh := r.json(t)["refresh_token"].(string)
	e.clock.Advance(61 * time.Minute)
	wantOAuthError(t, e.postForm("/api/oauth2/token", &e.tv, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}, "client_id": {e.tv.ID}}),
		http.StatusBadRequest, "invalid_grant")
}

// TestLastUsed (API.md §11): /account says when each app last used its
// access, to the hour: never before the first use, then the hour of the
// latest use, a refresh included.
func TestLastUsed(t *testing.T) {
	e := newOAuthEnv(t)
	b := e.aliceBrowser()
	verifier, challenge := pkce()
	r := allowWith(t, b, b.authorize(authQuery(e.app, "beers:read", "s", challenge)), "")
	tok := e.mustToken(&e.app, codeForm(e.app, location(t, r).Query().Get("code"), verifier))
	wantBodyContains(t, b.get("/account"), "last used never")

	e.clock.Advance(2 * time.Hour)
	wantStatus(t, e.request("GET", "/api/beers", nil, bearer(tok.AccessToken)), http.StatusUnauthorized) // expired after 1 h
	tok = e.mustToken(&e.app, refreshForm(tok.RefreshToken, ""))
	refreshedAt := e.clock.Now().UTC().Truncate(time.Hour)
	wantBodyContains(t, b.get("/account"), "last used "+refreshedAt.Format("2 January 2006, 15:00 UTC"))

	e.clock.Advance(3 * time.Hour)
	tok = e.mustToken(&e.app, refreshForm(tok.RefreshToken, ""))
	wantStatus(t, e.request("GET", "/api/beers", nil, bearer(tok.AccessToken)), http.StatusOK)
	used := e.clock.Now().UTC().Truncate(time.Hour)
	consent, err := e.deps.Services.Store.Consents.Get(t.Context(), e.aliceID, e.app.ID)
	if err != nil || !consent.LastUsedAt.Equal(used) {
		t.Errorf("consent LastUsedAt = %v (%v), want %v", consent.LastUsedAt, err, used)
	}
	wantBodyContains(t, b.get("/account"), "last used "+used.Format("2 January 2006, 15:00 UTC"))
}
