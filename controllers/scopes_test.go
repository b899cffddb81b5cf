package controllers_test

import (
	"net/url"
	"slices"
	"testing"
	"time"
)

func TestBearerScopes(t *testing.T) {
	e := newOAuthEnv(t)
	token := map[string]string{}
	for _, scope := range []string{"beers:read", "beers:write", "profile", "clients", "profile beers:read beers:write clients"} {
		token[scope] = e.passwordTokens(scope).AccessToken
	}
	beer := e.mustCreateBeer(e.alice, "Porter", 1)["id"].(string)
	newBeer := map[string]any{"name": "Stout", "quantity": 2}
	tests := []struct {
		name   string
		scope  string
		method string
		path   string
		body   any
		status int
		needed string // the scope a 403 names
	}{
		{"beers:read lists beers", "beers:read", "GET", "/api/beers", nil, 200, ""},
		{"beers:read gets a beer", "beers:read", "GET", "/api/beers/" + beer, nil, 200, ""},
		{"beers:read cannot add", "beers:read", "POST", "/api/beers", newBeer, 403, "beers:write"},
		{"beers:read cannot change", "beers:read", "PATCH", "/api/beers/" + beer, map[string]any{"quantity": 3}, 403, "beers:write"},
		{"beers:read cannot delete", "beers:read", "DELETE", "/api/beers/" + beer, nil, 403, "beers:write"},
		{"beers:read cannot read the profile", "beers:read", "GET", "/api/users/me", nil, 403, "profile"},
		{"beers:write adds", "beers:write", "POST", "/api/beers", newBeer, 201, ""},
		{"beers:write replaces", "beers:write", "PUT", "/api/beers/" + beer, map[string]any{"name": "Porter", "type": "", "quantity": 5}, 200, ""},
		{"beers:write does not imply beers:read", "beers:write", "GET", "/api/beers", nil, 403, "beers:read"},
		{"beers:write cannot get a beer", "beers:write", "GET", "/api/beers/" + beer, nil, 403, "beers:read"},
		{"profile reads the profile", "profile", "GET", "/api/users/me", nil, 200, ""},
		{"profile cannot list beers", "profile", "GET", "/api/beers", nil, 403, "beers:read"},
		{"profile cannot list clients", "profile", "GET", "/api/clients", nil, 403, "clients"},
		{"clients lists clients", "clients", "GET", "/api/clients", nil, 200, ""},
		{"clients cannot read the profile", "clients", "GET", "/api/users/me", nil, 403, "profile"},
		{"beers:write cannot manage clients", "beers:write", "POST", "/api/clients", map[string]any{"name": "x", "redirect_uris": []string{"https://x.example/cb"}}, 403, "clients"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.request(tc.method, tc.path, tc.body, bearer(token[tc.scope]))
			if tc.status != 403 {
				wantStatus(t, r, tc.status)
				return
			}
			wantProblem(t, r, 403)
			want := []string{`Bearer realm="beerlocker", error="insufficient_scope", scope="` + tc.needed + `", resource_metadata="` + apiMetadata + `"`}
			if got := r.Header.Values("WWW-Authenticate"); !slices.Equal(got, want) {
				t.Errorf("WWW-Authenticate = %q, want %q", got, want)
			}
		})
	}
	t.Run("PATCH and DELETE /api/users/me need the password", func(t *testing.T) {
		all := token["profile beers:read beers:write clients"]
		wantProblem(t, e.request("PATCH", "/api/users/me", map[string]string{"password": "a new password"}, bearer(all)), 403)
		wantProblem(t, e.request("DELETE", "/api/users/me", nil, bearer(all)), 403)
		// Nothing changed: the old password still works.
		wantStatus(t, e.request("GET", "/api/users/me", nil, e.alice), 200)
	})
}

func TestBearerRefusals(t *testing.T) {
	e := newOAuthEnv(t)
	machine := e.mustCreateClient(e.dev, map[string]any{"name": "Machine", "grant_types": []string{"client_credentials"}})
	cc := e.mustToken(&machine, url.Values{"grant_type": {"client_credentials"}, "scope": {"profile beers:read beers:write clients"}})
	tk := e.passwordTokens("profile beers:read")

	t.Run("client_credentials token on user routes", func(t *testing.T) {
		for _, path := range []string{"/api/beers", "/api/users/me", "/api/clients"} {
			wantProblem(t, e.request("GET", path, nil, bearer(cc.AccessToken)), 403)
		}
	})
	t.Run("access token in the query string", func(t *testing.T) {
		wantProblem(t, e.request("GET", "/api/beers?access_token="+url.QueryEscape(tk.AccessToken), nil), 401)
	})
	t.Run("refresh token as bearer token", func(t *testing.T) {
		r := e.request("GET", "/api/beers", nil, bearer(tk.RefreshToken))
		wantProblem(t, r, 401)
		want := []string{`Bearer realm="beerlocker", error="invalid_token", resource_metadata="` + apiMetadata + `"`, `Basic realm="beerlocker"`}
		if got := r.Header.Values("WWW-Authenticate"); !slices.Equal(got, want) {
			t.Errorf("WWW-Authenticate = %q, want %q", got, want)
		}
	})
	t.Run("default scope", func(t *testing.T) {
		d := e.passwordTokens("")
		if d.Scope != "profile beers:read" {
			t.Errorf("scope = %q, want profile beers:read", d.Scope)
		}
		wantStatus(t, e.request("GET", "/api/users/me", nil, bearer(d.AccessToken)), 200)
		wantStatus(t, e.request("GET", "/api/beers", nil, bearer(d.AccessToken)), 200)
		wantProblem(t, e.request("POST", "/api/beers", map[string]any{"name": "x", "quantity": 1}, bearer(d.AccessToken)), 403)
	})
	t.Run("expired access token", func(t *testing.T) {
		wantStatus(t, e.request("GET", "/api/beers", nil, bearer(tk.AccessToken)), 200)
		e.clock.Advance(3601 * time.Second)
		r := e.request("GET", "/api/beers", nil, bearer(tk.AccessToken))
		wantProblem(t, r, 401)
		if got := r.Header.Values("WWW-Authenticate"); len(got) == 0 || got[0] != `Bearer realm="beerlocker", error="invalid_token", resource_metadata="`+apiMetadata+`"` {
			t.Errorf("WWW-Authenticate = %q, want an invalid_token Bearer challenge first", got)
		}
		// The refresh token outlives it.
		fresh := e.mustToken(&e.app, refreshForm(tk.RefreshToken, ""))
		wantStatus(t, e.request("GET", "/api/beers", nil, bearer(fresh.AccessToken)), 200)
	})
}
