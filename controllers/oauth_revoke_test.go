package controllers_test

import (
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func revokeForm(token, hint string) url.Values {
	f := url.Values{"token": {token}}
	if hint != "" {
		f.Set("token_type_hint", hint)
	}
	return f
}

func TestRevoke(t *testing.T) {
	e := newOAuthEnv(t)
	other := e.mustCreateClient(e.dev, map[string]any{"name": "Other App", "grant_types": []string{"password", "refresh_token"}})
	revoke := func(t *testing.T, c *client, form url.Values) {
		t.Helper()
		r := e.postForm("/api/oauth2/revoke", c, form)
		wantStatus(t, r, 200)
		if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("Cache-Control = %q, want no-store", cc)
		}
	}

	t.Run("access token", func(t *testing.T) {
		tk := e.passwordTokens("")
		wantStatus(t, e.request("GET", "/api/users/me", nil, bearer(tk.AccessToken)), 200)
		revoke(t, &e.app, revokeForm(tk.AccessToken, "access_token"))
		wantProblem(t, e.request("GET", "/api/users/me", nil, bearer(tk.AccessToken)), 401)
	})
	t.Run("access token with a wrong hint", func(t *testing.T) {
		tk := e.passwordTokens("")
		revoke(t, &e.app, revokeForm(tk.AccessToken, "refresh_token"))
		wantProblem(t, e.request("GET", "/api/users/me", nil, bearer(tk.AccessToken)), 401)
	})
	t.Run("refresh token revokes its access tokens", func(t *testing.T) {
		tk := e.passwordTokens("")
		rotated := e.mustToken(&e.app, refreshForm(tk.RefreshToken, ""))
		revoke(t, &e.app, revokeForm(rotated.RefreshToken, "refresh_token"))
		for name, tok := range map[string]string{"its access token": rotated.AccessToken, "the family's first access token": tk.AccessToken} {
			if r := e.request("GET", "/api/users/me", nil, bearer(tok)); r.StatusCode != 401 {
				t.Errorf("%s after revocation: status = %d, want 401", name, r.StatusCode)
			}
		}
		wantOAuthError(t, e.postForm("/api/oauth2/token", &e.app, refreshForm(rotated.RefreshToken, "")), 400, "invalid_grant")
	})
	t.Run("unknown token", func(t *testing.T) {
		revoke(t, &e.app, revokeForm("blat_made-up", ""))
	})
	t.Run("token of another client", func(t *testing.T) {
		theirs := e.mustToken(&other, passwordForm("alice", "alices password", ""))
		revoke(t, &e.app, revokeForm(theirs.AccessToken, ""))
		revoke(t, &e.app, revokeForm(theirs.RefreshToken, ""))
		wantStatus(t, e.request("GET", "/api/users/me", nil, bearer(theirs.AccessToken)), 200)
		e.mustToken(&other, refreshForm(theirs.RefreshToken, ""))
	})
	t.Run("public client with client_id only", func(t *testing.T) {
		b := e.aliceBrowser()
		verifier, challenge := pkce()
		tk := e.mustToken(nil, codeForm(e.pub, b.mustCode(authQuery(e.pub, "", "st", challenge)), verifier))
		revoke(t, nil, url.Values{"token": {tk.RefreshToken}, "client_id": {e.pub.ID}})
		wantProblem(t, e.request("GET", "/api/users/me", nil, bearer(tk.AccessToken)), 401)
	})

	tk := e.passwordTokens("")
	wrong := client{ID: e.app.ID, Secret: "blcs_wrong"}
	tests := []struct {
		name   string
		c      *client
		form   url.Values
		status int
		error  string
	}{
		{"missing token", &e.app, url.Values{"token_type_hint": {"access_token"}}, 400, "invalid_request"},
		{"wrong client secret", &wrong, revokeForm(tk.AccessToken, ""), 401, "invalid_client"},
		{"wrong client_secret_post", nil, with(revokeForm(tk.AccessToken, ""), "client_id", e.app.ID, "client_secret", "blcs_wrong"), 401, "invalid_client"},
		{"no client authentication", nil, revokeForm(tk.AccessToken, ""), 401, "invalid_client"},
		{"duplicated token", &e.app, url.Values{"token": {tk.AccessToken, tk.RefreshToken}}, 400, "invalid_request"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantOAuthError(t, e.postForm("/api/oauth2/revoke", tc.c, tc.form), tc.status, tc.error)
		})
	}
	// None of the refused requests revoked anything.
	wantStatus(t, e.request("GET", "/api/users/me", nil, bearer(tk.AccessToken)), 200)
}

func TestIntrospect(t *testing.T) {
	e := newOAuthEnv(t)
	other := e.mustCreateClient(e.dev, map[string]any{"name": "Other App", "grant_types": []string{"password", "refresh_token"}})
	introspect := func(t *testing.T, c *client, token string) map[string]any {
		t.Helper()
		r := e.postForm("/api/oauth2/introspect", c, url.Values{"token": {token}})
		wantStatus(t, r, 200)
		if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("Cache-Control = %q, want no-store", cc)
		}
		return r.json(t)
	}
	inactive := map[string]any{"active": false}
	wantInactive := func(t *testing.T, c *client, token string) {
		t.Helper()
		if got := introspect(t, c, token); !reflect.DeepEqual(got, inactive) {
			t.Errorf("introspection = %v, want %v", got, inactive)
		}
	}

	issued := time.Now().Unix()
	tk := e.passwordTokens("beers:write profile")
	t.Run("active access token", func(t *testing.T) {
		got := introspect(t, &e.app, tk.AccessToken)
		for k, want := range map[string]any{
			"active": true, "scope": "profile beers:write", "client_id": e.app.ID,
			"username": "alice", "sub": e.aliceID, "token_type": "Bearer",
		} {
			if got[k] != want {
				t.Errorf("%s = %v, want %v", k, got[k], want)
			}
		}
		iat, _ := got["iat"].(float64)
		exp, _ := got["exp"].(float64)
		if d := int64(iat) - issued; d < -1 || d > 5 {
			t.Errorf("iat = %v, want about %d", got["iat"], issued)
		}
		if int64(exp)-int64(iat) != 3600 {
			t.Errorf("exp - iat = %v, want 3600", exp-iat)
		}
	})
	t.Run("active refresh token", func(t *testing.T) {
		got := introspect(t, &e.app, tk.RefreshToken)
		if got["active"] != true || got["client_id"] != e.app.ID || got["username"] != "alice" || got["scope"] != "profile beers:write" {
			t.Errorf("introspection = %v, want an active refresh token of alice", got)
		}
		// RFC 7662 §2.2: token_type is the type of RFC 6749 §5.1 (Bearer
		// for our access tokens); a refresh token has none, and
		// "refresh_token" names only a token_type_hint (RFC 7009 §2.1).
		if tt, ok := got["token_type"]; ok {
			t.Errorf("token_type = %v, want none for a refresh token", tt)
		}
	})
	t.Run("client_secret_post", func(t *testing.T) {
		r := e.postForm("/api/oauth2/introspect", nil, url.Values{"token": {tk.AccessToken}, "client_id": {e.app.ID}, "client_secret": {e.app.Secret}})
		wantStatus(t, r, 200)
		if got := r.json(t)["active"]; got != true {
			t.Errorf("active = %v, want true", got)
		}
	})
	t.Run("unknown token", func(t *testing.T) { wantInactive(t, &e.app, "blat_made-up") })
	t.Run("token of another client", func(t *testing.T) {
		theirs := e.mustToken(&other, passwordForm("alice", "alices password", ""))
		wantInactive(t, &e.app, theirs.AccessToken)
		wantInactive(t, &e.app, theirs.RefreshToken)
		if got := introspect(t, &other, theirs.AccessToken); got["active"] != true {
			t.Errorf("its own client: active = %v, want true", got["active"])
		}
	})
	t.Run("rotated refresh token", func(t *testing.T) {
		old := e.passwordTokens("")
		e.mustToken(&e.app, refreshForm(old.RefreshToken, ""))
		wantInactive(t, &e.app, old.RefreshToken)
	})
	t.Run("after revocation", func(t *testing.T) {
		tk := e.passwordTokens("")
		wantStatus(t, e.postForm("/api/oauth2/revoke", &e.app, url.Values{"token": {tk.AccessToken}}), 200)
		wantInactive(t, &e.app, tk.AccessToken)
		wantStatus(t, e.postForm("/api/oauth2/revoke", &e.app, url.Values{"token": {tk.RefreshToken}}), 200)
		wantInactive(t, &e.app, tk.RefreshToken)
	})
	t.Run("errors", func(t *testing.T) {
		wantOAuthError(t, e.postForm("/api/oauth2/introspect", nil, url.Values{"token": {tk.AccessToken}, "client_id": {e.pub.ID}}), 401, "invalid_client")
		wantOAuthError(t, e.postForm("/api/oauth2/introspect", &client{ID: e.app.ID, Secret: "blcs_wrong"}, url.Values{"token": {tk.AccessToken}}), 401, "invalid_client")
		wantOAuthError(t, e.postForm("/api/oauth2/introspect", nil, url.Values{"token": {tk.AccessToken}}), 401, "invalid_client")
		wantOAuthError(t, e.postForm("/api/oauth2/introspect", &e.app, url.Values{}), 400, "invalid_request")
	})
	t.Run("expired access token", func(t *testing.T) {
		e.clock.Advance(3601 * time.Second)
		wantInactive(t, &e.app, tk.AccessToken)
	})
}

func TestMetadata(t *testing.T) {
	e := newTestEnv(t)
	r := e.request("GET", "/.well-known/oauth-authorization-server", nil)
	wantStatus(t, r, 200)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	m := r.json(t)
	const issuer = "http://localhost:3000"
	for k, want := range map[string]string{
		"issuer":                 issuer,
		"authorization_endpoint": issuer + "/api/oauth2/authorize",
		"token_endpoint":         issuer + "/api/oauth2/token",
		"revocation_endpoint":    issuer + "/api/oauth2/revoke",
		"introspection_endpoint": issuer + "/api/oauth2/introspect",
	} {
		if m[k] != want {
			t.Errorf("%s = %v, want %q", k, m[k], want)
		}
	}
	list := func(k string) []string {
		var out []string
		for _, v := range m[k].([]any) {
			out = append(out, v.(string))
		}
		return out
	}
	for k, want := range map[string][]string{
		"scopes_supported":                      {"profile", "beers:read", "beers:write", "clients", "openid", "offline_access"},
		"response_types_supported":              {"code"},
		"token_endpoint_auth_methods_supported": {"client_secret_basic", "client_secret_post", "none"},
		"code_challenge_methods_supported":      {"S256"},
	} {
		if m[k] == nil {
			t.Errorf("%s missing", k)
			continue
		}
		if got := list(k); !slices.Equal(got, want) {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if m["grant_types_supported"] == nil {
		t.Fatal("grant_types_supported missing")
	}
	grants := list("grant_types_supported")
	for _, g := range []string{"authorization_code", "refresh_token", "client_credentials", "password"} {
		if !slices.Contains(grants, g) {
			t.Errorf("grant_types_supported = %q, want it to include %s", grants, g)
		}
	}
	for _, g := range []string{"implicit", "token"} {
		if slices.Contains(grants, g) {
			t.Errorf("grant_types_supported = %q, want no %s", grants, g)
		}
	}

	t.Run("issuer is PUBLIC_URL", func(t *testing.T) {
		e := newTestEnvPublicURL(t, "https://beer.example")
		m := e.request("GET", "/.well-known/oauth-authorization-server", nil).json(t)
		if m["issuer"] != "https://beer.example" || m["token_endpoint"] != "https://beer.example/api/oauth2/token" {
			t.Errorf("issuer, token_endpoint = %v, %v; want them under https://beer.example", m["issuer"], m["token_endpoint"])
		}
	})
}
