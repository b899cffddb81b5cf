package controllers_test

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"beerlocker/models"
)

func TestClientLifecycle(t *testing.T) {
	e := newTestEnv(t)
	e.mustRegister("dev", "devs password")
	dev := basic("dev", "devs password")

	r := e.request("POST", "/api/clients", map[string]any{
		"name": "Beer Buddy", "redirect_uris": []string{"https://buddy.example/cb", "http://localhost:8080/cb"},
	}, dev)
	wantStatus(t, r, http.StatusCreated)
	created := r.json(t)
	id, _ := created["client_id"].(string)
	secret, _ := created["client_secret"].(string)
	if id == "" || !strings.HasPrefix(secret, "blcs_") || len(secret) < 5+43 {
		t.Fatalf("client = %v, want a client_id and a blcs_ secret of 32 random bytes", created)
	}
	if got, want := r.Header.Get("Location"), "/api/clients/"+id; got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}
	if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", cc)
	}
	for k, want := range map[string]any{"name": "Beer Buddy", "public": false} {
		if created[k] != want {
			t.Errorf("%s = %v, want %v", k, created[k], want)
		}
	}
	if got := strList(created["grant_types"]); !slices.Equal(got, []string{"authorization_code", "refresh_token"}) {
		t.Errorf("grant_types = %q, want the default authorization_code refresh_token", got)
	}
	if _, err := time.Parse(time.RFC3339, created["created_at"].(string)); err != nil {
		t.Errorf("created_at = %v: %v", created["created_at"], err)
	}

	t.Run("get and list never show the secret", func(t *testing.T) {
		for _, path := range []string{"/api/clients/" + id, "/api/clients"} {
			r := e.request("GET", path, nil, dev)
			wantStatus(t, r, 200)
			if strings.Contains(string(r.body), "client_secret") || strings.Contains(string(r.body), secret) {
				t.Errorf("GET %s shows a secret: %s", path, r.body)
			}
			wantBodyContains(t, r, id)
		}
		list := e.request("GET", "/api/clients", nil, dev).json(t)["clients"].([]any)
		if len(list) != 1 {
			t.Errorf("clients = %d, want 1", len(list))
		}
	})
	t.Run("patch name and redirect_uris", func(t *testing.T) {
		r := e.request("PATCH", "/api/clients/"+id, map[string]any{"name": "Beer Buddy 2"}, dev)
		wantStatus(t, r, 200)
		got := r.json(t)
		if got["name"] != "Beer Buddy 2" || len(strList(got["redirect_uris"])) != 2 {
			t.Errorf("after name patch = %v, want the new name and both redirect URIs kept", got)
		}
		r = e.request("PATCH", "/api/clients/"+id, map[string]any{"redirect_uris": []string{"https://buddy.example/new"}}, dev)
		wantStatus(t, r, 200)
		got = r.json(t)
		if got["name"] != "Beer Buddy 2" || !slices.Equal(strList(got["redirect_uris"]), []string{"https://buddy.example/new"}) {
			t.Errorf("after redirect_uris patch = %v", got)
		}
		if _, ok := got["client_secret"]; ok {
			t.Errorf("PATCH shows a secret: %s", r.body)
		}
		got = e.request("GET", "/api/clients/"+id, nil, dev).json(t)
		if got["name"] != "Beer Buddy 2" || !slices.Equal(strList(got["redirect_uris"]), []string{"https://buddy.example/new"}) {
			t.Errorf("GET after patches = %v", got)
		}
	})
	t.Run("patch errors", func(t *testing.T) {
		tests := []struct {
			name   string
			body   string
			fields []string
		}{
			{"unknown field public", `{"public":true}`, nil},
			{"unknown field grant_types", `{"grant_types":["password"]}`, nil},
			{"no redirect URIs", `{"redirect_uris":[]}`, []string{"redirect_uris"}},
			{"fragment", `{"redirect_uris":["https://buddy.example/cb#x"]}`, []string{"redirect_uris"}},
			{"empty name", `{"name":""}`, []string{"name"}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				p := wantProblem(t, e.request("PATCH", "/api/clients/"+id, tc.body, dev), 400)
				if tc.fields != nil && !slices.Equal(problemFields(p), tc.fields) {
					t.Errorf("fields = %v, want %v", problemFields(p), tc.fields)
				}
			})
		}
		if got := e.request("GET", "/api/clients/"+id, nil, dev).json(t); got["public"] != false {
			t.Errorf("public = %v after refused patches, want false", got["public"])
		}
	})
	t.Run("delete", func(t *testing.T) {
		wantStatus(t, e.request("DELETE", "/api/clients/"+id, nil, dev), http.StatusNoContent)
		wantProblem(t, e.request("GET", "/api/clients/"+id, nil, dev), 404)
		wantProblem(t, e.request("DELETE", "/api/clients/"+id, nil, dev), 404)
	})
}

func strList(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, s := range list {
		str, _ := s.(string)
		out = append(out, str)
	}
	return out
}

func TestCreatePublicClient(t *testing.T) {
	e := newTestEnv(t)
	e.mustRegister("dev", "devs password")
	r := e.request("POST", "/api/clients", map[string]any{
		"name": "Beer CLI", "public": true, "redirect_uris": []string{"com.example.beer:/cb", "http://127.0.0.1/cb"},
	}, basic("dev", "devs password"))
	wantStatus(t, r, http.StatusCreated)
	c := r.json(t)
	if _, ok := c["client_secret"]; ok {
		t.Errorf("a public client got a client_secret: %s", r.body)
	}
	if c["public"] != true {
		t.Errorf("public = %v, want true", c["public"])
	}
	p := wantProblem(t, e.request("POST", "/api/clients/"+c["client_id"].(string)+"/secret", nil, basic("dev", "devs password")), 400)
	if p["detail"] == "" {
		t.Error("rotating a public client's secret: empty detail")
	}
}

func TestClientValidation(t *testing.T) {
	e := newTestEnv(t)
	e.mustRegister("dev", "devs password")
	dev := basic("dev", "devs password")
	eleven := make([]string, 11)
	for i := range eleven {
		eleven[i] = "https://app.example/cb" + string(rune('a'+i))
	}
	ok := []string{"https://app.example/cb"}
	tests := []struct {
		name   string
		body   map[string]any
		fields []string
	}{
		{"no redirect URIs", map[string]any{"redirect_uris": []string{}}, []string{"redirect_uris"}},
		{"redirect_uris missing", map[string]any{"redirect_uris": nil}, []string{"redirect_uris"}},
		{"eleven redirect URIs", map[string]any{"redirect_uris": eleven}, []string{"redirect_uris"}},
		{"fragment", map[string]any{"redirect_uris": []string{"https://app.example/cb#frag"}}, []string{"redirect_uris"}},
		{"relative URI", map[string]any{"redirect_uris": []string{"/cb"}}, []string{"redirect_uris"}},
		{"http on a public host", map[string]any{"redirect_uris": []string{"http://app.example/cb"}}, []string{"redirect_uris"}},
		{"http on a look-alike of localhost", map[string]any{"redirect_uris": []string{"http://localhost.evil.example/cb"}}, []string{"redirect_uris"}},
		{"private-use scheme on a confidential client", map[string]any{"redirect_uris": []string{"com.example.app:/cb"}}, []string{"redirect_uris"}},
		{"one bad URI among good ones", map[string]any{"redirect_uris": []string{"https://app.example/cb", "http://app.example/cb"}}, []string{"redirect_uris"}},
		{"public client with password", map[string]any{"public": true, "grant_types": []string{"authorization_code", "password"}}, []string{"grant_types"}},
		{"public client with client_credentials", map[string]any{"public": true, "grant_types": []string{"client_credentials"}}, []string{"grant_types"}},
		{"unknown grant", map[string]any{"grant_types": []string{"authorization_code", "implicit"}}, []string{"grant_types"}},
		{"empty grant list", map[string]any{"grant_types": []string{}}, []string{"grant_types"}},
		{"no name", map[string]any{"name": ""}, []string{"name"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := map[string]any{"name": "App", "redirect_uris": ok}
			for k, v := range tc.body {
				if v == nil {
					delete(body, k)
				} else {
					body[k] = v
				}
			}
			p := wantProblem(t, e.request("POST", "/api/clients", body, dev), 400)
			if got := problemFields(p); !slices.Equal(got, tc.fields) {
				t.Errorf("fields = %v, want %v", got, tc.fields)
			}
		})
	}
	t.Run("unknown field", func(t *testing.T) {
		wantProblem(t, e.request("POST", "/api/clients", `{"name":"App","redirect_uris":["https://app.example/cb"],"secret":"mine"}`, dev), 400)
	})
	if list := e.request("GET", "/api/clients", nil, dev).json(t)["clients"].([]any); len(list) != 0 {
		t.Errorf("clients after refused registrations = %d, want 0", len(list))
	}
	t.Run("acceptable", func(t *testing.T) {
		for _, uris := range [][]string{
			{"http://localhost:8080/cb"}, {"http://127.0.0.1/cb"}, {"http://[::1]:9000/cb"},
			{"https://app.example/cb?keep=1"}, eleven[:10],
		} {
			wantStatus(t, e.request("POST", "/api/clients", map[string]any{"name": "App", "redirect_uris": uris}, dev), 201)
		}
	})
}

func TestClientsOfOthersAreNotFound(t *testing.T) {
	e := newOAuthEnv(t)
	eve := basic("eve", "eves password")
	e.mustRegister("eve", "eves password")
	for _, tc := range []struct{ method, path, body string }{
		{"GET", "/api/clients/" + e.app.ID, ""},
		{"PATCH", "/api/clients/" + e.app.ID, `{"name":"Mine now"}`},
		{"DELETE", "/api/clients/" + e.app.ID, ""},
		{"POST", "/api/clients/" + e.app.ID + "/secret", ""},
		{"GET", "/api/clients/blci_nobody", ""},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			var body any
			if tc.body != "" {
				body = tc.body
			}
			wantProblem(t, e.request(tc.method, tc.path, body, eve), 404)
		})
	}
	if list := e.request("GET", "/api/clients", nil, eve).json(t)["clients"].([]any); len(list) != 0 {
		t.Errorf("eve's clients = %v, want none", list)
	}
	// The developer's app is untouched: same name, same secret.
	if got := e.request("GET", "/api/clients/"+e.app.ID, nil, e.dev).json(t)["name"]; got != "Beer Buddy" {
		t.Errorf("name = %v, want Beer Buddy", got)
	}
	e.passwordTokens("")
}

func TestRotateClientSecret(t *testing.T) {
	e := newOAuthEnv(t)
	before := e.passwordTokens("")
	r := e.request("POST", "/api/clients/"+e.app.ID+"/secret", nil, e.dev)
	wantStatus(t, r, 200)
	body := r.json(t)
	secret, _ := body["client_secret"].(string)
	if body["client_id"] != e.app.ID || !strings.HasPrefix(secret, "blcs_") || secret == e.app.Secret {
		t.Fatalf("rotation = %v, want the client_id and a new blcs_ secret", body)
	}
	if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", cc)
	}
	pw := passwordForm("alice", "alices password", "")
	wantOAuthError(t, e.postForm("/api/oauth2/token", &e.app, pw), 401, "invalid_client")
	wantOAuthError(t, e.postForm("/api/oauth2/token", nil, with(pw, "client_id", e.app.ID, "client_secret", e.app.Secret)), 401, "invalid_client")
	rotated := client{ID: e.app.ID, Secret: secret}
	e.mustToken(&rotated, pw)
	e.mustToken(&rotated, refreshForm(before.RefreshToken, ""))
}

func TestDeleteClient(t *testing.T) {
	e := newOAuthEnv(t)
	b := e.aliceBrowser()
	code := b.mustCode(authQuery(e.app, "profile beers:read", "st", ""))
	tk := e.mustToken(&e.app, codeForm(e.app, code, ""))
	pending := b.mustCode(authQuery(e.app, "profile", "st", "")) // consent remembered: straight to a code
	if _, err := e.deps.Store.Consents.Get(t.Context(), e.aliceID, e.app.ID); err != nil {
		t.Fatalf("consent before delete: %v", err)
	}
	verifier, challenge := pkce()
	kept := e.mustToken(nil, codeForm(e.pub, b.mustCode(authQuery(e.pub, "", "st", challenge)), verifier))

	wantStatus(t, e.request("DELETE", "/api/clients/"+e.app.ID, nil, e.dev), http.StatusNoContent)

	wantProblem(t, e.request("GET", "/api/users/me", nil, bearer(tk.AccessToken)), 401)
	wantOAuthError(t, e.postForm("/api/oauth2/token", &e.app, refreshForm(tk.RefreshToken, "")), 401, "invalid_client")
	wantOAuthError(t, e.postForm("/api/oauth2/token", &e.app, codeForm(e.app, pending, "")), 401, "invalid_client")
	if _, err := e.deps.Store.Consents.Get(t.Context(), e.aliceID, e.app.ID); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("consent after delete: err = %v, want ErrNotFound", err)
	}
	r := b.get("/account")
	wantStatus(t, r, 200)
	if strings.Contains(string(r.body), "Beer Buddy") {
		t.Errorf("account page still lists the deleted app:\n%s", r.body)
	}
	wantErrorPage(t, b.authorize(authQuery(e.app, "", "st", "")), 400)
	// The developer's other app is untouched.
	wantStatus(t, e.request("GET", "/api/users/me", nil, bearer(kept.AccessToken)), 200)
}

func TestBearerManagesClients(t *testing.T) {
	e := newOAuthEnv(t)
	tk := e.passwordTokens("clients")
	r := e.request("POST", "/api/clients", map[string]any{"name": "Made by token", "redirect_uris": []string{"https://t.example/cb"}}, bearer(tk.AccessToken))
	wantStatus(t, r, http.StatusCreated)
	id := r.json(t)["client_id"].(string)
	// It belongs to alice, the token's user, not to the app's developer.
	wantStatus(t, e.request("GET", "/api/clients/"+id, nil, e.alice), 200)
	wantProblem(t, e.request("GET", "/api/clients/"+id, nil, e.dev), 404)
	wantStatus(t, e.request("GET", "/api/clients", nil, bearer(tk.AccessToken)), 200)
	wantStatus(t, e.request("DELETE", "/api/clients/"+id, nil, bearer(tk.AccessToken)), http.StatusNoContent)
}

func TestAccountCascades(t *testing.T) {
	t.Run("password change revokes every token of the user", func(t *testing.T) {
		e := newOAuthEnv(t)
		b := e.aliceBrowser()
		viaCode := e.mustToken(&e.app, codeForm(e.app, b.mustCode(authQuery(e.app, "", "st", "")), ""))
		viaPassword := e.passwordTokens("")
		devs := e.mustToken(&e.app, passwordForm("dev", "devs password", ""))

		wantStatus(t, e.request("PATCH", "/api/users/me", map[string]string{"password": "alices new password"}, e.alice), 200)

		for name, tok := range map[string]string{"code grant": viaCode.AccessToken, "password grant": viaPassword.AccessToken} {
			if r := e.request("GET", "/api/users/me", nil, bearer(tok)); r.StatusCode != 401 {
				t.Errorf("%s access token after password change: status = %d, want 401", name, r.StatusCode)
			}
		}
		for _, rt := range []string{viaCode.RefreshToken, viaPassword.RefreshToken} {
			wantOAuthError(t, e.postForm("/api/oauth2/token", &e.app, refreshForm(rt, "")), 400, "invalid_grant")
		}
		// Another user's tokens stay.
		wantStatus(t, e.request("GET", "/api/users/me", nil, bearer(devs.AccessToken)), 200)
		e.mustToken(&e.app, passwordForm("alice", "alices new password", ""))
	})
	t.Run("account deletion removes the user's clients and tokens", func(t *testing.T) {
		e := newOAuthEnv(t)
		e.mustRegister("carol", "carols password")
		carol := basic("carol", "carols password")
		carolsApp := e.mustCreateClient(carol, map[string]any{"name": "Carol's App", "grant_types": []string{"password", "refresh_token"}})
		// alice uses carol's app; carol uses the developer's app.
		aliceViaCarol := e.mustToken(&carolsApp, passwordForm("alice", "alices password", ""))
		carolViaDev := e.mustToken(&e.app, passwordForm("carol", "carols password", ""))
		aliceViaDev := e.passwordTokens("")

		wantStatus(t, e.request("DELETE", "/api/users/me", nil, carol), http.StatusNoContent)

		wantProblem(t, e.request("GET", "/api/users/me", nil, bearer(aliceViaCarol.AccessToken)), 401)
		wantOAuthError(t, e.postForm("/api/oauth2/token", &carolsApp, refreshForm(aliceViaCarol.RefreshToken, "")), 401, "invalid_client")
		wantProblem(t, e.request("GET", "/api/users/me", nil, bearer(carolViaDev.AccessToken)), 401)
		wantOAuthError(t, e.postForm("/api/oauth2/token", &e.app, refreshForm(carolViaDev.RefreshToken, "")), 400, "invalid_grant")
		if _, err := e.deps.Store.Clients.Get(t.Context(), carolsApp.ID); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("carol's client after account deletion: err = %v, want ErrNotFound", err)
		}
		wantOAuthError(t, e.postForm("/api/oauth2/token", &e.app, passwordForm("carol", "carols password", "")), 400, "invalid_grant")
		// Other people's tokens stay.
		wantStatus(t, e.request("GET", "/api/users/me", nil, bearer(aliceViaDev.AccessToken)), 200)
	})
}

// TestClientNameVisible: API.md §5, a client name is visible text. The
// consent page shows it, so control and format characters (Unicode Cc and
// Cf: NUL, zero-width spaces, bidi overrides) could hide or disguise it;
// they are refused on create and on PATCH.
func TestClientNameVisible(t *testing.T) {
	e := newTestEnv(t)
	e.mustRegister("dev", "devs password")
	dev := basic("dev", "devs password")
	ok := []string{"https://app.example/cb"}
	existing := e.request("POST", "/api/clients", map[string]any{"name": "Beer Buddy", "redirect_uris": ok}, dev)
	wantStatus(t, existing, http.StatusCreated)
	path := "/api/clients/" + existing.json(t)["client_id"].(string)

	for _, tc := range []struct{ name, value string }{
		{"NUL", "Beer\x00Buddy"},
		{"bell", "Beer Buddy\a"},
		{"newline", "Beer\nBuddy"},
		{"tab", "Beer\tBuddy"},
		{"DEL", "Beer Buddy\x7f"},
		{"C1 control", "Beer\u0085Buddy"},
		{"zero-width space", "Beer\u200bBuddy"},
		{"zero-width joiner only", "\u200d"},
		{"byte order mark", "\ufeffBeer Buddy"},
		{"right-to-left override", "\u202eyddub reeB"},
		{"right-to-left isolate", "Beer \u2067Buddy\u2069"},
		{"soft hyphen", "Beer\u00adBuddy"},
		{"word joiner", "Beer\u2060Buddy"},
		{"tag characters", "Beer\U000E0041Buddy"},
		{"Hangul filler only", "\u3164"},
		{"combining mark only", "\u0301"},
		{"spaces only", "   "},
		{"no-break spaces only", "\u00a0\u2003"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := wantProblem(t, e.request("POST", "/api/clients", map[string]any{"name": tc.value, "redirect_uris": ok}, dev), http.StatusBadRequest)
			if got := problemFields(p); !slices.Equal(got, []string{"name"}) {
				t.Errorf("create: fields = %v, want [name]", got)
			}
			p = wantProblem(t, e.request("PATCH", path, map[string]any{"name": tc.value}, dev), http.StatusBadRequest)
			if got := problemFields(p); !slices.Equal(got, []string{"name"}) {
				t.Errorf("patch: fields = %v, want [name]", got)
			}
		})
	}
	if got := e.request("GET", path, nil, dev).json(t)["name"]; got != "Beer Buddy" {
		t.Errorf("name after refused changes = %q, want Beer Buddy", got)
	}
	t.Run("visible text of any script", func(t *testing.T) {
		for _, name := range []string{"Bière & Co.", "日本のビール", "Пиво", "بيرة", "Beer ❤️", "🍺", "Beer\u00a0Buddy", "e\u0301"} {
			r := e.request("PATCH", path, map[string]any{"name": name}, dev)
			wantStatus(t, r, http.StatusOK)
			if got := r.json(t)["name"]; got != name {
				t.Errorf("name = %q, want %q", got, name)
			}
		}
	})
}
