package controllers_test

import (
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
)

// The resource identifiers and metadata URLs of API.md §10, for the test
// env's PUBLIC_URL.
const (
	apiResource = "http://localhost:3000/api"
	mcpResource = "http://localhost:3000/mcp"
	apiMetadata = "http://localhost:3000/.well-known/oauth-protected-resource/api"
	mcpMetadata = "http://localhost:3000/.well-known/oauth-protected-resource/mcp"
)

// TestProtectedResourceMetadata: each resource describes itself (RFC
// 9728 §3), with exactly its identifier and this issuer, and the MCP
// endpoint lists only the scopes its tools need.
func TestProtectedResourceMetadata(t *testing.T) {
	e := newTestEnv(t)
	for _, tc := range []struct {
		path, resource, name string
		scopes               []any
	}{
		{"/.well-known/oauth-protected-resource/api", apiResource, "Beer Locker REST API", []any{"profile", "beers:read", "beers:write", "clients"}},
		{"/.well-known/oauth-protected-resource/mcp", mcpResource, "Beer Locker MCP server", []any{"beers:read", "beers:write"}},
	} {
		r := e.request("GET", tc.path, nil)
		wantStatus(t, r, http.StatusOK)
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Errorf("%s: Content-Type %q", tc.path, ct)
		}
		want := map[string]any{
			"resource": tc.resource, "authorization_servers": []any{"http://localhost:3000"},
			"scopes_supported": tc.scopes, "bearer_methods_supported": []any{"header"}, "resource_name": tc.name,
		}
		if got := r.json(t); !reflect.DeepEqual(got, want) {
			t.Errorf("%s =\n%v, want\n%v", tc.path, got, want)
		}
	}
}

// TestBearerChallengesNameResourceMetadata: every Bearer challenge of the
// REST API names its metadata, and comes first (API.md §10), so that a
// client that reads one challenge finds the authorization server.
func TestBearerChallengesNameResourceMetadata(t *testing.T) {
	e := newOAuthEnv(t)
	narrow := e.passwordTokens("profile")
	for _, tc := range []struct {
		name    string
		headers []string
		status  int
		want    string
	}{
		{"no credentials", nil, 401, `Bearer realm="beerlocker", resource_metadata="` + apiMetadata + `"`},
		{"bad token", []string{bearer("blat_nope")}, 401, `Bearer realm="beerlocker", error="invalid_token", resource_metadata="` + apiMetadata + `"`},
		{"scope missing", []string{bearer(narrow.AccessToken)}, 403, `Bearer realm="beerlocker", error="insufficient_scope", scope="beers:read", resource_metadata="` + apiMetadata + `"`},
	} {
		r := e.request("GET", "/api/beers", nil, tc.headers...)
		wantStatus(t, r, tc.status)
		if got := r.Header.Values("WWW-Authenticate"); len(got) == 0 || got[0] != tc.want {
			t.Errorf("%s: WWW-Authenticate = %q, want first %q", tc.name, got, tc.want)
		}
	}
	r := e.request("GET", "/api/oauth2/userinfo", nil, bearer("blat_nope"))
	wantStatus(t, r, 401)
	if got := r.Header.Get("WWW-Authenticate"); !strings.HasSuffix(got, `, resource_metadata="`+apiMetadata+`"`) {
		t.Errorf("userinfo: WWW-Authenticate = %q", got)
	}
}

// audienceOf introspects token as c and returns its aud.
func (e *oauthEnv) audienceOf(c client, token string) []string {
	e.t.Helper()
	r := e.postForm("/api/oauth2/introspect", &c, url.Values{"token": {token}})
	wantStatus(e.t, r, http.StatusOK)
	m := r.json(e.t)
	if m["active"] != true {
		e.t.Fatalf("introspection of a live token: %v", m)
	}
	return toStrings(m["aud"])
}

func withResources(f url.Values, resources ...string) url.Values {
	for _, r := range resources {
		f.Add("resource", r)
	}
	return f
}

// TestResourceIndicatorsOnDirectGrants: a token is valid where it was
// asked for (RFC 8707), the REST API when nowhere was named, so that
// clients written before resource indicators work unchanged; /api refuses
// a token meant only for /mcp as invalid; introspection says aud.
func TestResourceIndicatorsOnDirectGrants(t *testing.T) {
	e := newOAuthEnv(t)
	form := func(resources ...string) url.Values {
		return withResources(passwordForm("alice", "alices password", "beers:read"), resources...)
	}
	for _, tc := range []struct {
		name      string
		resources []string
		aud       []string
		onAPI     int
	}{
		{"none", nil, []string{apiResource}, 200},
		{"api", []string{apiResource}, []string{apiResource}, 200},
		{"mcp", []string{mcpResource}, []string{mcpResource}, 401},
		{"both", []string{mcpResource, apiResource}, []string{apiResource, mcpResource}, 200},
	} {
		tk := e.mustToken(&e.app, form(tc.resources...))
		if got := e.audienceOf(e.app, tk.AccessToken); !reflect.DeepEqual(got, tc.aud) {
			t.Errorf("%s: aud = %q, want %q", tc.name, got, tc.aud)
		}
		r := e.request("GET", "/api/beers", nil, bearer(tk.AccessToken))
		wantStatus(t, r, tc.onAPI)
		if tc.onAPI == 401 {
			if got := r.Header.Values("WWW-Authenticate"); len(got) == 0 || !strings.Contains(got[0], `error="invalid_token"`) {
				t.Errorf("%s: WWW-Authenticate = %q, want invalid_token", tc.name, got)
			}
			wantStatus(t, e.request("GET", "/api/oauth2/userinfo", nil, bearer(tk.AccessToken)), 401)
		}
		// The refresh token keeps the grant's audience (introspection of a
		// refresh token says so too).
		if got := e.audienceOf(e.app, tk.RefreshToken); !reflect.DeepEqual(got, tc.aud) {
			t.Errorf("%s: refresh token aud = %q, want %q", tc.name, got, tc.aud)
		}
	}

	cc := e.mustCreateClient(e.dev, map[string]any{"name": "Beer Robot", "grant_types": []string{"client_credentials"}})
	tk := e.mustToken(&cc, withResources(url.Values{"grant_type": {"client_credentials"}}, mcpResource))
	if got := e.audienceOf(cc, tk.AccessToken); !reflect.DeepEqual(got, []string{mcpResource}) {
		t.Errorf("client_credentials: aud = %q", got)
	}

	for _, bad := range []string{"https://evil.example/api", apiResource + "#x", apiResource + "/", "http://localhost:3000", "api", ""} {
		wantOAuthError(t, e.postForm("/api/oauth2/token", &e.app, form(bad)), http.StatusBadRequest, "invalid_target")
		wantOAuthError(t, e.postForm("/api/oauth2/token", &e.app, form(apiResource, bad)), http.StatusBadRequest, "invalid_target")
	}
}

// TestResourceIndicatorsThroughCodeAndRefresh: the grant's audience is
// what authorization asked for; the token request and a refresh may
// narrow the access token's, never widen it, and a refresh without
// resource keeps the grant's (API.md §10).
func TestResourceIndicatorsThroughCodeAndRefresh(t *testing.T) {
	e := newOAuthEnv(t)
	b := e.aliceBrowser()
	code := func(resources ...string) (string, string) {
		verifier, challenge := pkce()
		return b.mustCode(withResources(authQuery(e.app, "beers:read", "st", challenge), resources...)), verifier
	}

	// For /mcp only: the code's tokens are refused on /api, and a refresh
	// cannot widen them to it.
	c, v := code(mcpResource)
	tk := e.mustToken(&e.app, codeForm(e.app, c, v))
	if got := e.audienceOf(e.app, tk.AccessToken); !reflect.DeepEqual(got, []string{mcpResource}) {
		t.Errorf("code for mcp: aud = %q", got)
	}
	wantStatus(t, e.request("GET", "/api/beers", nil, bearer(tk.AccessToken)), 401)
	wantOAuthError(t, e.postForm("/api/oauth2/token", &e.app, withResources(refreshForm(tk.RefreshToken, ""), apiResource)),
		http.StatusBadRequest, "invalid_target")
	again := e.mustToken(&e.app, refreshForm(tk.RefreshToken, ""))
	if got := e.audienceOf(e.app, again.AccessToken); !reflect.DeepEqual(got, []string{mcpResource}) {
		t.Errorf("refresh without resource: aud = %q, want the grant's", got)
	}

	// For both: the token request narrows to /api; a refresh narrows to
	// /mcp, and the next refresh without resource has both again.
	c, v = code(apiResource, mcpResource)
	tk = e.mustToken(&e.app, withResources(codeForm(e.app, c, v), apiResource))
	if got := e.audienceOf(e.app, tk.AccessToken); !reflect.DeepEqual(got, []string{apiResource}) {
		t.Errorf("code for both, token for api: aud = %q", got)
	}
	wantStatus(t, e.request("GET", "/api/beers", nil, bearer(tk.AccessToken)), 200)
	tk = e.mustToken(&e.app, withResources(refreshForm(tk.RefreshToken, ""), mcpResource))
	if got := e.audienceOf(e.app, tk.AccessToken); !reflect.DeepEqual(got, []string{mcpResource}) {
		t.Errorf("refresh narrowed to mcp: aud = %q", got)
	}
	tk = e.mustToken(&e.app, refreshForm(tk.RefreshToken, ""))
	if got := e.audienceOf(e.app, tk.AccessToken); !reflect.DeepEqual(got, []string{apiResource, mcpResource}) {
		t.Errorf("refresh after a narrowed one: aud = %q, want the grant's both", got)
	}

	// No resource at all: the REST API, as before.
	c, v = code()
	tk = e.mustToken(&e.app, codeForm(e.app, c, v))
	if got := e.audienceOf(e.app, tk.AccessToken); !reflect.DeepEqual(got, []string{apiResource}) {
		t.Errorf("code without resource: aud = %q", got)
	}
	wantOAuthError(t, e.postForm("/api/oauth2/token", &e.app, withResources(refreshForm(tk.RefreshToken, ""), mcpResource)),
		http.StatusBadRequest, "invalid_target")

	// A code for /api alone cannot be redeemed for /mcp, and the refused
	// request does not use it up.
	c, v = code(apiResource)
	wantOAuthError(t, e.postForm("/api/oauth2/token", &e.app, withResources(codeForm(e.app, c, v), mcpResource)),
		http.StatusBadRequest, "invalid_target")
	e.mustToken(&e.app, codeForm(e.app, c, v))

	// A resource that is not ours, at authorization: the app approved
	// before hears invalid_target at its redirect URI, with no code.
	_, challenge := pkce()
	r := b.authorize(withResources(authQuery(e.app, "beers:read", "st", challenge), "https://evil.example/"))
	wantStatus(t, r, http.StatusFound)
	q := location(t, r).Query()
	if q.Get("error") != "invalid_target" || q.Get("code") != "" || q.Get("state") != "st" {
		t.Errorf("authorize with a foreign resource: redirect %s", r.Header.Get("Location"))
	}
}

// TestResourceIndicatorsOnDeviceGrant: the device authorization request
// names the resource; a foreign one is invalid_target, and the poll may
// narrow but not widen.
func TestResourceIndicatorsOnDeviceGrant(t *testing.T) {
	e := newDeviceEnv(t)
	r := e.postForm("/api/oauth2/device_authorization", &e.box, url.Values{"resource": {"https://evil.example/mcp"}})
	wantOAuthError(t, r, http.StatusBadRequest, "invalid_target")

	r = e.postForm("/api/oauth2/device_authorization", &e.box, url.Values{"resource": {mcpResource}})
	wantStatus(t, r, http.StatusOK)
	m := r.json(t)
	b := e.aliceBrowser()
	consent := b.enterCode(m["user_code"].(string))
	wantStatus(t, consent, http.StatusOK)
	wantStatus(t, b.decide(consent, "allow"), http.StatusOK)
	dc := m["device_code"].(string)
	poll := func(resources ...string) *response {
		return e.postForm("/api/oauth2/token", &e.box, withResources(url.Values{"grant_type": {deviceGrant}, "device_code": {dc}}, resources...))
	}
	wantOAuthError(t, poll(apiResource), http.StatusBadRequest, "invalid_target")
	e.clock.Advance(6 * time.Second) // that was a poll: wait the interval
	r = poll(mcpResource)
	wantStatus(t, r, http.StatusOK)
	token := r.json(t)["access_token"].(string)
	if got := e.audienceOf(e.box, token); !reflect.DeepEqual(got, []string{mcpResource}) {
		t.Errorf("device grant for mcp: aud = %q", got)
	}
	wantStatus(t, e.request("GET", "/api/beers", nil, bearer(token)), 401)
}
