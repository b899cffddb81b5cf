package controllers_test

import (
	"errors"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"beerlocker/models"
)

// Browser sessions are records on the server (API.md §7): the cookie only
// names one, so ending the record ends the session for every copy of the
// cookie. These tests keep a copy of a browser's cookies, as an attacker
// who stole or saved them would, and replay it after the session ended.

// copyOf returns a new browser holding the cookies b holds now: a saved
// copy of them, which b's later requests do not change.
func (b *browser) copyOf() *browser {
	b.t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		b.t.Fatal(err)
	}
	u := mustParseURL(b.t, b.e.server.URL)
	jar.SetCookies(u, b.client.Jar.Cookies(u))
	c := *b.client
	c.Jar = jar
	return &browser{t: b.t, e: b.e, client: &c}
}

func TestLogoutEndsEveryCopyOfTheSession(t *testing.T) {
	e := newOAuthEnv(t)
	b := e.aliceBrowser()
	// alice has approved the app, so an authorization request gets a code
	// at once while her session lives.
	b.mustCode(authQuery(e.app, "profile", "s1", ""))
	saved := b.copyOf()
	wantStatus(t, saved.get("/account"), http.StatusOK)

	wantRedirect(t, b.post("/logout", url.Values{"csrf_token": {b.csrfToken("/account")}}), http.StatusSeeOther, "/")

	wantRedirect(t, saved.get("/account"), http.StatusFound, "/login?return_to=%2Faccount")
	q := authQuery(e.app, "profile", "s2", "")
	r := saved.authorize(q)
	wantStatus(t, r, http.StatusFound)
	if u := location(t, r); u.Path != "/login" || u.Query().Has("code") {
		t.Errorf("the saved cookie at the authorization endpoint was sent to %s, want /login", u)
	}
}

func TestPasswordChangeEndsEverySession(t *testing.T) {
	e := newOAuthEnv(t)
	b1, b2 := e.aliceBrowser(), e.aliceBrowser()
	b1.mustCode(authQuery(e.app, "profile", "s1", ""))
	bob := e.newBrowser()
	e.mustRegister("bob", "bobs password")
	bob.mustLogIn("bob", "bobs password")

	r := e.request("PATCH", "/api/users/me", map[string]string{"password": "alices new password"}, e.alice)
	wantStatus(t, r, http.StatusOK)

	for i, b := range []*browser{b1, b2} {
		wantRedirect(t, b.get("/account"), http.StatusFound, "/login?return_to=%2Faccount")
		r := b.authorize(authQuery(e.app, "profile", "s2", ""))
		wantStatus(t, r, http.StatusFound)
		if u := location(t, r); u.Path != "/login" {
			t.Errorf("session %d at the authorization endpoint after the password change: sent to %s, want /login", i+1, u)
		}
	}
	// Another user's session goes on.
	wantStatus(t, bob.get("/account"), http.StatusOK)
	// The new password starts a new session.
	b1.mustLogIn("alice", "alices new password")
	wantStatus(t, b1.get("/account"), http.StatusOK)
}

func TestAccountDeletionEndsEverySession(t *testing.T) {
	e := newOAuthEnv(t)
	b := e.aliceBrowser()
	wantStatus(t, e.request("DELETE", "/api/users/me", nil, e.alice), http.StatusNoContent)
	wantRedirect(t, b.get("/account"), http.StatusFound, "/login?return_to=%2Faccount")
	// The name is free again; a new alice does not inherit the old session.
	e.mustRegister("alice", "alices password")
	wantRedirect(t, b.get("/account"), http.StatusFound, "/login?return_to=%2Faccount")
}

// TestLoginRotatesTheSession: a session id known before the login (a
// planted cookie) is not the one that is signed in.
func TestLoginRotatesTheSession(t *testing.T) {
	e := newOAuthEnv(t)
	b := e.newBrowser()
	b.csrfToken("/login")
	before := b.copyOf()
	b.mustLogIn("alice", "alices password")
	wantStatus(t, b.get("/account"), http.StatusOK)
	wantRedirect(t, before.get("/account"), http.StatusFound, "/login?return_to=%2Faccount")
}

// TestConsentDecidedOnce: a transaction is decided once (API.md §6 step
// 5), even when the second decision comes with a copy of the cookie saved
// while the page was open.
func TestConsentDecidedOnce(t *testing.T) {
	e := newOAuthEnv(t)
	b := e.aliceBrowser()
	r := b.authorize(authQuery(e.app, "beers:read", "st", ""))
	wantStatus(t, r, http.StatusOK)
	form := consentForm(t, r)
	saved := b.copyOf()

	form.Set("decision", "deny")
	wantAuthError(t, b.post("/api/oauth2/authorize/decision", form), http.StatusSeeOther, e.app.RedirectURI, "access_denied", "st")

	form.Set("decision", "allow")
	r = saved.post("/api/oauth2/authorize/decision", form)
	wantStatus(t, r, http.StatusForbidden)
	wantNoLocation(t, r)
	if _, err := e.deps.Store.Consents.Get(t.Context(), e.aliceID, e.app.ID); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("consent after the replayed Allow: err = %v, want ErrNotFound", err)
	}
}

// TestDeviceConsentDecidedOnce is TestConsentDecidedOnce on /device.
func TestDeviceConsentDecidedOnce(t *testing.T) {
	e := newDeviceEnv(t)
	b := e.aliceBrowser()
	da := e.mustDeviceAuth(e.box, "beers:read")
	consent := b.enterCode(da.UserCode)
	wantStatus(t, consent, http.StatusOK)
	saved := b.copyOf()

	wantStatus(t, b.decide(consent, "deny"), http.StatusOK)
	r := saved.decide(consent, "allow")
	wantStatus(t, r, http.StatusForbidden)
	if _, err := e.deps.Store.Consents.Get(t.Context(), e.aliceID, e.box.ID); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("consent after the replayed Allow: err = %v, want ErrNotFound", err)
	}
	wantOAuthError(t, e.poll(e.box, da.DeviceCode), http.StatusBadRequest, "access_denied")
}

// TestConsentPageForLongRequests: what an app may register and send (a
// redirect URI of 2000 characters, a state of 512) fits, however many
// consent pages are open; the cookie stays small, because the pending
// requests are kept on the server.
func TestConsentPageForLongRequests(t *testing.T) {
	e := newOAuthEnv(t)
	long := "https://app.example/" + strings.Repeat("c", 2000-len("https://app.example/"))
	app := e.mustCreateClient(e.dev, map[string]any{"name": "Long Way Home", "redirect_uris": []string{long}})
	b := e.aliceBrowser()
	var forms []url.Values
	for i := range 5 {
		r := b.authorize(authQuery(app, "profile beers:read beers:write clients", strings.Repeat("s", 511)+string(rune('a'+i)), ""))
		wantStatus(t, r, http.StatusOK)
		wantBodyContains(t, r, long)
		forms = append(forms, consentForm(t, r))
		for _, c := range r.Cookies() {
			if n := len(c.String()); n > 200 {
				t.Errorf("Set-Cookie %s is %d bytes, want the session id only", c.Name, n)
			}
		}
	}
	for i, form := range forms {
		form.Set("decision", "allow")
		r := b.post("/api/oauth2/authorize/decision", form)
		wantStatus(t, r, http.StatusSeeOther)
		u := location(t, r)
		if got := u.Scheme + "://" + u.Host + u.Path; got != long {
			t.Errorf("page %d redirected to %.40s…, want the long redirect URI", i+1, got)
		}
		if q := u.Query(); q.Get("code") == "" || q.Get("state") != strings.Repeat("s", 511)+string(rune('a'+i)) {
			t.Errorf("page %d: callback query without a code or its state", i+1)
		}
	}
}
