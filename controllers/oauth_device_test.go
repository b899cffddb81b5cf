package controllers_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// deviceGrant is the grant type of RFC 8628.
const deviceGrant = "urn:ietf:params:oauth:grant-type:device_code"

var userCodeShape = regexp.MustCompile(`^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$`)

// deviceEnv adds device apps to an oauthEnv: tv is public (a CLI or a TV)
// with the device and refresh grants, box is confidential with the device
// grant only.
type deviceEnv struct {
	*oauthEnv
	tv, box client
}

func newDeviceEnv(t testing.TB) *deviceEnv {
	t.Helper()
	e := newOAuthEnv(t)
	return &deviceEnv{
		oauthEnv: e,
		tv: e.mustCreateClient(e.dev, map[string]any{"name": "Beer TV", "public": true,
			"grant_types": []string{deviceGrant, "refresh_token"}}),
		box: e.mustCreateClient(e.dev, map[string]any{"name": "Beer Box",
			"grant_types": []string{deviceGrant}}),
	}
}

// deviceAuth is a device authorization response.
type deviceAuth struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete"`
	ExpiresIn               int    `json:"expires_in"`
	Interval                int    `json:"interval"`
}

// mustDeviceAuth starts a device authorization for c (public clients send
// client_id in the form); scope may be "".
func (e *deviceEnv) mustDeviceAuth(c client, scope string) deviceAuth {
	e.t.Helper()
	form := url.Values{}
	if c.Secret == "" {
		form.Set("client_id", c.ID)
	}
	if scope != "" {
		form.Set("scope", scope)
	}
	r := e.postForm("/api/oauth2/device_authorization", &c, form)
	wantStatus(e.t, r, http.StatusOK)
	if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
		e.t.Errorf("Cache-Control = %q, want no-store", cc)
	}
	m := r.json(e.t)
	da := deviceAuth{
		DeviceCode: m["device_code"].(string), UserCode: m["user_code"].(string),
		VerificationURI: m["verification_uri"].(string), VerificationURIComplete: m["verification_uri_complete"].(string),
		ExpiresIn: int(m["expires_in"].(float64)), Interval: int(m["interval"].(float64)),
	}
	return da
}

// poll asks the token endpoint once for c's tokens of device code dc.
func (e *deviceEnv) poll(c client, dc string) *response {
	e.t.Helper()
	form := url.Values{"grant_type": {deviceGrant}, "device_code": {dc}}
	if c.Secret == "" {
		form.Set("client_id", c.ID)
	}
	return e.postForm("/api/oauth2/token", &c, form)
}

// enterCode posts a user code on the /device page of a signed-in browser.
func (b *browser) enterCode(code string) *response {
	b.t.Helper()
	return b.post("/device", url.Values{"user_code": {code}, "csrf_token": {b.csrfToken("/device")}})
}

// decide presses Allow or Deny on a device consent page.
func (b *browser) decide(consent *response, decision string) *response {
	b.t.Helper()
	form := consentForm(b.t, consent)
	form.Set("decision", decision)
	return b.post("/device", form)
}

// TestDeviceFlowWithRealClient drives RFC 8628 with golang.org/x/oauth2:
// the app asks for codes with Config.DeviceAuth and polls with
// Config.DeviceAccessToken while alice, in a browser, opens the link,
// logs in, checks the code and presses Allow. The tokens then work, once.
func TestDeviceFlowWithRealClient(t *testing.T) {
	e := newDeviceEnv(t)
	e.deps.OAuth.DeviceInterval = time.Second // x/oauth2 sleeps a whole interval between polls
	conf := &oauth2.Config{
		ClientID: e.tv.ID, Scopes: []string{"profile", "beers:read", "beers:write"},
		Endpoint: oauth2.Endpoint{
			DeviceAuthURL: e.server.URL + "/api/oauth2/device_authorization",
			TokenURL:      e.server.URL + "/api/oauth2/token",
			AuthStyle:     oauth2.AuthStyleInParams, // a public client: client_id in the form
		},
	}
	ctx := context.WithValue(t.Context(), oauth2.HTTPClient, e.server.Client())

	da, err := conf.DeviceAuth(ctx)
	if err != nil {
		t.Fatalf("DeviceAuth: %v", err)
	}
	if !strings.HasPrefix(da.DeviceCode, "bldc_") || !userCodeShape.MatchString(da.UserCode) {
		t.Errorf("device_code %q, user_code %q: want bldc_… and XXXX-XXXX", da.DeviceCode, da.UserCode)
	}
	if da.VerificationURI != "http://localhost:3000/device" ||
		da.VerificationURIComplete != "http://localhost:3000/device?user_code="+da.UserCode || da.Interval != 1 {
		t.Errorf("verification_uri %q, complete %q, interval %d", da.VerificationURI, da.VerificationURIComplete, da.Interval)
	}
	if left := time.Until(da.Expiry); left < 590*time.Second || left > 600*time.Second {
		t.Errorf("expires in %v, want 600 s", left)
	}

	type result struct {
		tok *oauth2.Token
		err error
	}
	done := make(chan result, 1)
	go func() {
		tok, err := conf.DeviceAccessToken(ctx, da)
		done <- result{tok, err}
	}()

	// Alice opens verification_uri_complete, is sent to log in, and comes back.
	b := e.newBrowser()
	link := strings.TrimPrefix(da.VerificationURIComplete, "http://localhost:3000")
	r := b.get(link)
	wantRedirect(t, r, http.StatusFound, "/login?return_to="+url.QueryEscape(link))
	r = b.logIn("alice", "alices password", link)
	wantRedirect(t, r, http.StatusSeeOther, link)
	r = b.get(link)
	wantStatus(t, r, http.StatusOK)
	wantBodyContains(t, r, `value="`+da.UserCode+`"`)

	// She continues and compares the code; meanwhile the app has been
	// told authorization_pending at least once. Then she allows.
	r = b.enterCode(da.UserCode)
	wantStatus(t, r, http.StatusOK)
	for _, want := range []string{"Beer TV", "dev", da.UserCode, `action="/device"`, "Add, change and remove beers"} {
		wantBodyContains(t, r, want)
	}
	waitForLog(t, e.testEnv, `"route":"/api/oauth2/token","status":400`)
	r = b.decide(r, "allow")
	wantStatus(t, r, http.StatusOK)
	wantBodyContains(t, r, "return to your device")

	var res result
	select {
	case res = <-done:
	case <-time.After(15 * time.Second):
		t.Fatal("DeviceAccessToken did not return within 15 s of the approval")
	}
	if res.err != nil {
		t.Fatalf("DeviceAccessToken: %v", res.err)
	}
	tok := res.tok
	if !strings.HasPrefix(tok.AccessToken, "blat_") || !strings.HasPrefix(tok.RefreshToken, "blrt_") {
		t.Fatalf("token = %+v, want an access and a refresh token", tok)
	}
	if got := tok.Extra("scope"); got != "profile beers:read beers:write" {
		t.Errorf("scope = %v", got)
	}
	r = e.request("POST", "/api/beers", map[string]any{"name": "From the TV", "quantity": 1}, bearer(tok.AccessToken))
	wantStatus(t, r, http.StatusCreated)
	r = e.request("GET", "/api/beers", nil, bearer(tok.AccessToken))
	wantStatus(t, r, http.StatusOK)
	wantBodyContains(t, r, "From the TV")

	// The device code works once: a later poll is invalid_grant, and the
	// tokens it gave stay valid.
	e.clock.Advance(time.Minute)
	wantOAuthError(t, e.poll(e.tv, da.DeviceCode), http.StatusBadRequest, "invalid_grant")
	wantStatus(t, e.request("GET", "/api/users/me", nil, bearer(tok.AccessToken)), http.StatusOK)

	// The approval is remembered: the app is on her account page.
	r = b.get("/account")
	wantStatus(t, r, http.StatusOK)
	wantBodyContains(t, r, "Beer TV")
}

// TestDeviceDenyWithRealClient: Deny makes DeviceAccessToken fail with access_denied.
func TestDeviceDenyWithRealClient(t *testing.T) {
	e := newDeviceEnv(t)
	e.deps.OAuth.DeviceInterval = time.Second
	conf := &oauth2.Config{ClientID: e.tv.ID, Endpoint: oauth2.Endpoint{
		DeviceAuthURL: e.server.URL + "/api/oauth2/device_authorization",
		TokenURL:      e.server.URL + "/api/oauth2/token", AuthStyle: oauth2.AuthStyleInParams,
	}}
	ctx := context.WithValue(t.Context(), oauth2.HTTPClient, e.server.Client())
	da, err := conf.DeviceAuth(ctx)
	if err != nil {
		t.Fatalf("DeviceAuth: %v", err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := conf.DeviceAccessToken(ctx, da)
		done <- err
	}()

	b := e.aliceBrowser()
	r := b.enterCode(da.UserCode)
	wantStatus(t, r, http.StatusOK)
	r = b.decide(r, "deny")
	wantStatus(t, r, http.StatusOK)
	wantBodyContains(t, r, "Request denied")

	select {
	case err = <-done:
	case <-time.After(15 * time.Second):
		t.Fatal("DeviceAccessToken did not return within 15 s of the denial")
	}
	if !isOAuthError(err, "access_denied") {
		t.Fatalf("DeviceAccessToken after Deny: err = %v, want access_denied", err)
	}
	// Denied stays denied, and the consent was not remembered.
	e.clock.Advance(time.Minute)
	wantOAuthError(t, e.poll(e.tv, da.DeviceCode), http.StatusBadRequest, "access_denied")
	r = b.get("/account")
	if strings.Contains(string(r.body), "Beer TV") {
		t.Error("the account page lists the denied app")
	}
}

// TestDeviceExpiresWithRealClient: past expires_in the poll is expired_token,
// and the code is no longer accepted on the page.
func TestDeviceExpiresWithRealClient(t *testing.T) {
	e := newDeviceEnv(t)
	e.deps.OAuth.DeviceInterval = time.Second
	conf := &oauth2.Config{ClientID: e.tv.ID, Endpoint: oauth2.Endpoint{
		DeviceAuthURL: e.server.URL + "/api/oauth2/device_authorization",
		TokenURL:      e.server.URL + "/api/oauth2/token", AuthStyle: oauth2.AuthStyleInParams,
	}}
	ctx := context.WithValue(t.Context(), oauth2.HTTPClient, e.server.Client())
	da, err := conf.DeviceAuth(ctx)
	if err != nil {
		t.Fatalf("DeviceAuth: %v", err)
	}
	e.clock.Advance(601 * time.Second)
	if _, err := conf.DeviceAccessToken(ctx, da); !isOAuthError(err, "expired_token") {
		t.Fatalf("DeviceAccessToken after expiry: err = %v, want expired_token", err)
	}
	r := e.aliceBrowser().enterCode(da.UserCode)
	wantStatus(t, r, http.StatusBadRequest)
	wantBodyContains(t, r, "That code is not valid")
}

// TestDevicePollErrors covers each RFC 8628 §3.5 answer with direct polls.
func TestDevicePollErrors(t *testing.T) {
	e := newDeviceEnv(t)
	da := e.mustDeviceAuth(e.tv, "")
	if da.ExpiresIn != 600 || da.Interval != 5 {
		t.Errorf("expires_in %d, interval %d, want 600 and 5", da.ExpiresIn, da.Interval)
	}

	t.Run("authorization_pending then slow_down", func(t *testing.T) {
		wantOAuthError(t, e.poll(e.tv, da.DeviceCode), http.StatusBadRequest, "authorization_pending")
		r := e.poll(e.tv, da.DeviceCode) // at once: too fast
		wantOAuthError(t, r, http.StatusBadRequest, "slow_down")
		wantBodyContains(t, r, "10 seconds") // 5 s + 5 s
		e.clock.Advance(6 * time.Second)     // waited the old interval, not the new one
		r = e.poll(e.tv, da.DeviceCode)
		wantOAuthError(t, r, http.StatusBadRequest, "slow_down")
		wantBodyContains(t, r, "15 seconds")
		e.clock.Advance(15 * time.Second)
		wantOAuthError(t, e.poll(e.tv, da.DeviceCode), http.StatusBadRequest, "authorization_pending")
	})

	t.Run("another client's device code is invalid_grant", func(t *testing.T) {
		e.clock.Advance(time.Minute)
		wantOAuthError(t, e.poll(e.box, da.DeviceCode), http.StatusBadRequest, "invalid_grant")
		// ...and did not count as a poll of the owner.
		wantOAuthError(t, e.poll(e.tv, da.DeviceCode), http.StatusBadRequest, "authorization_pending")
	})

	t.Run("unknown or missing device code", func(t *testing.T) {
		e.clock.Advance(time.Minute)
		wantOAuthError(t, e.poll(e.tv, "bldc_unknown"), http.StatusBadRequest, "invalid_grant")
		wantOAuthError(t, e.poll(e.tv, ""), http.StatusBadRequest, "invalid_request")
	})

	t.Run("a client without the grant", func(t *testing.T) {
		r := e.postForm("/api/oauth2/token", &e.app, url.Values{"grant_type": {deviceGrant}, "device_code": {da.DeviceCode}})
		wantOAuthError(t, r, http.StatusBadRequest, "unauthorized_client")
	})

	t.Run("confidential client: tokens without refresh, then invalid_grant", func(t *testing.T) {
		bx := e.mustDeviceAuth(e.box, "beers:read")
		b := e.aliceBrowser()
		r := b.enterCode(bx.UserCode)
		wantStatus(t, r, http.StatusOK)
		wantStatus(t, b.decide(r, "allow"), http.StatusOK)
		tk := e.mustToken(&e.box, url.Values{"grant_type": {deviceGrant}, "device_code": {bx.DeviceCode}})
		if tk.RefreshToken != "" || tk.Scope != "beers:read" {
			t.Errorf("tokens = %+v, want beers:read and no refresh token (the client lacks the grant)", tk)
		}
		wantStatus(t, e.request("GET", "/api/beers", nil, bearer(tk.AccessToken)), http.StatusOK)
		e.clock.Advance(time.Minute)
		wantOAuthError(t, e.poll(e.box, bx.DeviceCode), http.StatusBadRequest, "invalid_grant")
	})

	t.Run("expired_token", func(t *testing.T) {
		e.clock.Advance(10 * time.Minute)
		wantOAuthError(t, e.poll(e.tv, da.DeviceCode), http.StatusBadRequest, "expired_token")
	})
}

// TestDeviceAuthorizationRequestErrors covers the device authorization
// endpoint's refusals.
func TestDeviceAuthorizationRequestErrors(t *testing.T) {
	e := newDeviceEnv(t)
	wrongSecret := client{ID: e.box.ID, Secret: "blcs_wrong"}
	cases := []struct {
		name   string
		c      *client
		form   url.Values
		status int
		code   string
	}{
		{"unknown client", nil, url.Values{"client_id": {"blci_nobody"}}, 401, "invalid_client"},
		{"no client", nil, url.Values{}, 401, "invalid_client"},
		{"wrong secret", &wrongSecret, url.Values{}, 401, "invalid_client"},
		{"confidential client without the grant", &e.app, url.Values{}, 400, "unauthorized_client"},
		{"public client without the grant", nil, url.Values{"client_id": {e.pub.ID}}, 400, "unauthorized_client"},
		{"unknown scope", nil, url.Values{"client_id": {e.tv.ID}, "scope": {"beers:drink"}}, 400, "invalid_scope"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wantOAuthError(t, e.postForm("/api/oauth2/device_authorization", tc.c, tc.form), tc.status, tc.code)
		})
	}
	t.Run("confidential client with its secret", func(t *testing.T) {
		if da := e.mustDeviceAuth(e.box, "profile"); !userCodeShape.MatchString(da.UserCode) {
			t.Errorf("user_code = %q", da.UserCode)
		}
	})
}

// TestDeviceUserCodeMatching: the code is compared without regard to case,
// dashes or spaces.
func TestDeviceUserCodeMatching(t *testing.T) {
	e := newDeviceEnv(t)
	b := e.aliceBrowser()
	for _, spell := range []func(string) string{
		func(c string) string { return c },
		strings.ToLower,
		func(c string) string { return strings.ReplaceAll(c, "-", "") },
		func(c string) string { return " " + strings.ToLower(strings.ReplaceAll(c, "-", " ")) + " " },
		func(c string) string { return c[:2] + "-" + c[2:4] + c[5:] },
	} {
		da := e.mustDeviceAuth(e.tv, "")
		typed := spell(da.UserCode)
		t.Run(typed, func(t *testing.T) {
			r := b.enterCode(typed)
			wantStatus(t, r, http.StatusOK)
			wantBodyContains(t, r, da.UserCode) // shown as the device shows it
		})
	}
}

// TestDeviceWrongCode: a wrong code is refused on the page with a message,
// and so is a code that was already answered.
func TestDeviceWrongCode(t *testing.T) {
	e := newDeviceEnv(t)
	b := e.aliceBrowser()
	da := e.mustDeviceAuth(e.tv, "")
	wrong := "BCDF-GHJK"
	if wrong == da.UserCode {
		wrong = "GHJK-BCDF"
	}
	for _, typed := range []string{wrong, "", "BCDF-GHJ", "AEIO-UAEI", "BCDF-GHJK-LMNP", strings.Repeat("B", 100)} {
		t.Run(typed, func(t *testing.T) {
			r := b.enterCode(typed)
			wantStatus(t, r, http.StatusBadRequest)
			wantBodyContains(t, r, "That code is not valid")
			wantBodyContains(t, r, `role="alert"`)
		})
	}
	r := b.enterCode(da.UserCode)
	wantStatus(t, r, http.StatusOK)
	wantStatus(t, b.decide(r, "deny"), http.StatusOK)
	r = b.enterCode(da.UserCode)
	wantStatus(t, r, http.StatusBadRequest)
	wantBodyContains(t, r, "That code is not valid")
	if !strings.Contains(e.logs.String(), `"event":"device_user_code_failed"`) {
		t.Error("no device_user_code_failed security event in the log")
	}
}

// TestDeviceWrongCodesAreLimited: after the account's burst of wrong codes
// the page answers 429 with Retry-After, even for a right code; another
// user on another address is not affected.
func TestDeviceWrongCodesAreLimited(t *testing.T) {
	base := newTestEnvConfig(t, openTestStore(t), "http://localhost:3000", tightLimits)
	base.mustRegister("alice", "alices password")
	base.mustRegister("bob", "bobs password")
	base.mustRegister("dev", "devs password")
	tv := base.mustCreateClient(basic("dev", "devs password"), map[string]any{"name": "Beer TV", "public": true,
		"grant_types": []string{deviceGrant}})
	e := &deviceEnv{oauthEnv: &oauthEnv{testEnv: base}, tv: tv}
	da := e.mustDeviceAuth(tv, "")

	attacker := base.from("203.0.113.7").newBrowser()
	attacker.mustLogIn("alice", "alices password")
	for i := range tightLimits.Account.Burst {
		r := attacker.enterCode("BCDF-GHJK")
		if r.StatusCode != http.StatusBadRequest {
			t.Fatalf("wrong code %d: status = %d, want 400", i+1, r.StatusCode)
		}
	}
	r := attacker.enterCode(da.UserCode)
	wantStatus(t, r, http.StatusTooManyRequests)
	wantBodyContains(t, r, "Too many failed attempts")
	if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s < 1 {
		t.Errorf("Retry-After = %q, want whole seconds", r.Header.Get("Retry-After"))
	}

	bob := base.from("198.51.100.9").newBrowser()
	bob.mustLogIn("bob", "bobs password")
	wantStatus(t, bob.enterCode(da.UserCode), http.StatusOK)
}

// TestDeviceConsentAlwaysShown: RFC 8628 §5.4 and API.md §6, a code the
// user enters may come from a phisher who started the flow for an app the
// user trusts, so the consent page, with the code to compare, is shown for
// every code, typed or linked, even for an app the user approved before.
func TestDeviceConsentAlwaysShown(t *testing.T) {
	e := newDeviceEnv(t)
	b := e.aliceBrowser()
	first := e.mustDeviceAuth(e.tv, "profile beers:read")
	r := b.enterCode(first.UserCode)
	wantStatus(t, r, http.StatusOK)
	wantStatus(t, b.decide(r, "allow"), http.StatusOK)

	for _, linked := range []bool{false, true} {
		da := e.mustDeviceAuth(e.tv, "beers:read")
		if linked { // opened from verification_uri_complete
			r = b.get(strings.TrimPrefix(da.VerificationURIComplete, "http://localhost:3000"))
			wantBodyContains(t, r, `value="`+da.UserCode+`"`)
		}
		r = b.enterCode(da.UserCode)
		wantStatus(t, r, http.StatusOK)
		wantBodyContains(t, r, `name="decision"`)
		wantBodyContains(t, r, da.UserCode)
		wantOAuthError(t, e.poll(e.tv, da.DeviceCode), http.StatusBadRequest, "authorization_pending")
		wantStatus(t, b.decide(r, "allow"), http.StatusOK)
		e.clock.Advance(time.Duration(da.Interval) * time.Second) // no slow_down
		tk := e.mustToken(&e.tv, url.Values{"grant_type": {deviceGrant}, "device_code": {da.DeviceCode}, "client_id": {e.tv.ID}})
		if tk.Scope != "beers:read" {
			t.Errorf("scope = %q, want beers:read", tk.Scope)
		}
	}
}

// TestDevicePageNeedsLoginAndCSRF covers the page's refusals.
func TestDevicePageNeedsLoginAndCSRF(t *testing.T) {
	e := newDeviceEnv(t)
	wantRedirect(t, e.newBrowser().get("/device"), http.StatusFound, "/login?return_to=%2Fdevice")

	b := e.aliceBrowser()
	r := b.get("/device")
	wantStatus(t, r, http.StatusOK)
	wantBodyContains(t, r, `name="user_code"`)

	da := e.mustDeviceAuth(e.tv, "")
	wantStatus(t, b.post("/device", url.Values{"user_code": {da.UserCode}}), http.StatusForbidden)
	wantStatus(t, b.post("/device", url.Values{"user_code": {da.UserCode}, "csrf_token": {"forged"}}), http.StatusForbidden)

	consent := b.enterCode(da.UserCode)
	wantStatus(t, consent, http.StatusOK)
	form := consentForm(t, consent)
	form.Set("decision", "allow")
	form.Set("tx", "not-the-tx")
	wantStatus(t, b.post("/device", form), http.StatusForbidden)

	// Another browser cannot answer alice's consent page.
	other := e.newBrowser()
	other.mustLogIn("dev", "devs password")
	form = consentForm(t, consent)
	form.Set("decision", "allow")
	form.Set("csrf_token", other.csrfToken("/device"))
	wantStatus(t, other.post("/device", form), http.StatusForbidden)

	// Nothing was decided: the device is still waiting, and the real
	// answer still works, once.
	wantOAuthError(t, e.poll(e.tv, da.DeviceCode), http.StatusBadRequest, "authorization_pending")
	form = consentForm(t, consent)
	form.Set("decision", "allow")
	wantStatus(t, b.post("/device", form), http.StatusOK)
	wantStatus(t, b.post("/device", form), http.StatusForbidden)
}

// TestDevicePollRace: concurrent polls after approval; exactly one gets tokens.
func TestDevicePollRace(t *testing.T) {
	e := newDeviceEnv(t)
	b := e.aliceBrowser()
	for trial := range 5 {
		da := e.mustDeviceAuth(e.box, "")
		r := b.enterCode(da.UserCode)
		wantStatus(t, r, http.StatusOK)
		wantStatus(t, b.decide(r, "allow"), http.StatusOK)
		statuses, bodies := e.raceForm(8, "/api/oauth2/token", e.box, url.Values{"grant_type": {deviceGrant}, "device_code": {da.DeviceCode}})
		wins := 0
		for i, st := range statuses {
			switch {
			case st == http.StatusOK:
				wins++
			case st == http.StatusBadRequest && (strings.Contains(string(bodies[i]), `"invalid_grant"`) || strings.Contains(string(bodies[i]), `"slow_down"`)):
			default:
				t.Errorf("trial %d: poll %d: %d %s", trial, i, st, bodies[i])
			}
		}
		if wins != 1 {
			t.Errorf("trial %d: %d polls got tokens, want exactly 1", trial, wins)
		}
	}
}

// TestMetadataListsDeviceAuthorization checks RFC 8628 §4.
func TestMetadataListsDeviceAuthorization(t *testing.T) {
	e := newTestEnv(t)
	m := e.request("GET", "/.well-known/oauth-authorization-server", nil).json(t)
	if m["device_authorization_endpoint"] != "http://localhost:3000/api/oauth2/device_authorization" {
		t.Errorf("device_authorization_endpoint = %v", m["device_authorization_endpoint"])
	}
	if !strings.Contains(strings.Join(toStrings(m["grant_types_supported"]), " "), deviceGrant) {
		t.Errorf("grant_types_supported = %v, want %s", m["grant_types_supported"], deviceGrant)
	}
}

// waitForLog waits, for at most 10 s, until the env's log holds s.
func waitForLog(t *testing.T, e *testEnv, s string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(e.logs.String(), s); {
		if time.Now().After(deadline) {
			t.Fatalf("the log never showed %s", s)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func toStrings(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// TestDeviceApprovalRevokedBeforePoll: revoking the app on the account page
// ends an approval the device has not collected yet.
func TestDeviceApprovalRevokedBeforePoll(t *testing.T) {
	e := newDeviceEnv(t)
	b := e.aliceBrowser()
	da := e.mustDeviceAuth(e.tv, "")
	r := b.enterCode(da.UserCode)
	wantStatus(t, r, http.StatusOK)
	wantStatus(t, b.decide(r, "allow"), http.StatusOK)
	r = b.post("/account/apps/"+e.tv.ID+"/revoke", url.Values{"csrf_token": {b.csrfToken("/account")}})
	wantStatus(t, r, http.StatusSeeOther)
	wantOAuthError(t, e.poll(e.tv, da.DeviceCode), http.StatusBadRequest, "invalid_grant")
}

// TestDeviceApprovalEndedByPasswordChange: changing the password ends an
// approval the device has not collected yet, as it ends tokens and codes
// (API.md §3): whoever knew the old password may have approved it.
func TestDeviceApprovalEndedByPasswordChange(t *testing.T) {
	e := newDeviceEnv(t)
	b := e.aliceBrowser()
	da := e.mustDeviceAuth(e.tv, "")
	r := b.enterCode(da.UserCode)
	wantStatus(t, r, http.StatusOK)
	wantStatus(t, b.decide(r, "allow"), http.StatusOK)
	r = e.request("PATCH", "/api/users/me", map[string]any{"password": "alices new password"}, e.alice)
	wantStatus(t, r, http.StatusOK)
	wantOAuthError(t, e.poll(e.tv, da.DeviceCode), http.StatusBadRequest, "invalid_grant")
}
