package controllers_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestOpenIDConfiguration checks the Discovery document against API.md §9,
// and that the RFC 8414 document names the OpenID Connect endpoints too.
func TestOpenIDConfiguration(t *testing.T) {
	e := newTestEnv(t)
	const issuer = "http://localhost:3000"
	endpoints := map[string]string{
		"issuer":                 issuer,
		"authorization_endpoint": issuer + "/api/oauth2/authorize",
		"token_endpoint":         issuer + "/api/oauth2/token",
		"userinfo_endpoint":      issuer + "/api/oauth2/userinfo",
		"jwks_uri":               issuer + "/.well-known/jwks.json",
		"end_session_endpoint":   issuer + "/api/oauth2/logout",
	}
	for _, path := range []string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"} {
		r := e.request("GET", path, nil)
		wantStatus(t, r, 200)
		m := r.json(t)
		for k, want := range endpoints {
			if m[k] != want {
				t.Errorf("%s: %s = %v, want %q", path, k, m[k], want)
			}
		}
	}
	m := e.request("GET", "/.well-known/openid-configuration", nil).json(t)
	first := func(k string) any {
		l, _ := m[k].([]any)
		if len(l) == 0 {
			return nil
		}
		return l[0]
	}
	if got := first("id_token_signing_alg_values_supported"); got != "RS256" {
		t.Errorf("id_token_signing_alg_values_supported[0] = %v, want RS256", got)
	}
	if got := first("subject_types_supported"); got != "public" {
		t.Errorf("subject_types_supported[0] = %v, want public", got)
	}
	for _, k := range []string{"request_parameter_supported", "request_uri_parameter_supported"} {
		if m[k] != false {
			t.Errorf("%s = %v, want false", k, m[k])
		}
	}
	if m["authorization_response_iss_parameter_supported"] != true {
		t.Errorf("authorization_response_iss_parameter_supported = %v, want true", m["authorization_response_iss_parameter_supported"])
	}
	scopes, _ := m["scopes_supported"].([]any)
	for _, want := range []string{"openid", "offline_access"} {
		found := false
		for _, s := range scopes {
			found = found || s == want
		}
		if !found {
			t.Errorf("scopes_supported = %v, lacks %q", scopes, want)
		}
	}
}

// Every endpoint the two documents name is served: none sends a relying
// party to a 404.
func TestDiscoveryEndpointsAreServed(t *testing.T) {
	e := newTestEnv(t)
	checked := 0
	for _, doc := range []string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"} {
		for k, v := range e.request("GET", doc, nil).json(t) {
			u, ok := v.(string)
			if !ok || !(strings.HasSuffix(k, "_endpoint") || k == "jwks_uri") {
				continue
			}
			checked++
			path := strings.TrimPrefix(u, "http://localhost:3000")
			for _, method := range []string{"GET", "POST"} {
				if r := e.request(method, path, nil); r.StatusCode == http.StatusNotFound {
					t.Errorf("%s names %s = %s, but %s %s is 404", doc, k, u, method, path)
				}
			}
		}
	}
	// authorization, token, revocation, introspection, device
	// authorization, userinfo and jwks_uri, in each document.
	if checked < 2*7 {
		t.Errorf("checked %d endpoints in the two documents, want at least 14", checked)
	}
}
