package controllers_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

func TestRegister(t *testing.T) {
	e := newTestEnv(t)
	r := e.request("POST", "/api/users", map[string]string{"username": "Alice", "password": "correct horse"})
	wantStatus(t, r, http.StatusCreated)
	u := r.json(t)
	if u["username"] != "Alice" || u["id"] == "" || u["created_at"] == "" {
		t.Errorf("user = %v, want id, username Alice and created_at", u)
	}
	if got, want := r.Header.Get("Location"), "/api/users/me"; got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}
	if len(u) != 3 || strings.Contains(string(r.body), "argon2") || strings.Contains(string(r.body), "password") {
		t.Errorf("user body has more than id, username, created_at: %s", r.body)
	}

	p := wantProblem(t, e.request("POST", "/api/users", map[string]string{"username": "aLICE", "password": "another pass"}), http.StatusConflict)
	if !strings.Contains(p["detail"].(string), "taken") {
		t.Errorf("detail = %q, want it to say the name is taken", p["detail"])
	}
}

func TestRegisterValidation(t *testing.T) {
	e := newTestEnv(t)
	tests := []struct {
		name   string
		body   string
		status int
		fields []string
	}{
		{"short username", `{"username":"ab","password":"12345678"}`, 400, []string{"username"}},
		{"long username", `{"username":"` + strings.Repeat("a", 65) + `","password":"12345678"}`, 400, []string{"username"}},
		{"bad characters", `{"username":"al ice","password":"12345678"}`, 400, []string{"username"}},
		{"short password", `{"username":"alice","password":"1234567"}`, 400, []string{"password"}},
		{"long password", `{"username":"alice","password":"` + strings.Repeat("p", 129) + `"}`, 400, []string{"password"}},
		{"both wrong, in order", `{"username":"","password":""}`, 400, []string{"username", "password"}},
		{"unknown field", `{"username":"alice","password":"12345678","admin":true}`, 400, []string{"admin"}},
		{"wrong type", `{"username":42,"password":"12345678"}`, 400, []string{"username"}},
		{"malformed", `{"username":"alice",`, 400, nil},
		{"trailing data", `{"username":"alice","password":"12345678"} {}`, 400, nil},
		{"not an object", `["alice"]`, 400, nil},
		{"empty", ``, 400, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := wantProblem(t, e.request("POST", "/api/users", tc.body), tc.status)
			if got := problemFields(p); !slices.Equal(got, tc.fields) {
				t.Errorf("fields = %v, want %v", got, tc.fields)
			}
		})
	}
	// Boundaries that are valid.
	wantStatus(t, e.request("POST", "/api/users", map[string]string{"username": "a.b", "password": "12345678"}), 201)
	wantStatus(t, e.request("POST", "/api/users", map[string]string{"username": strings.Repeat("Z", 64), "password": strings.Repeat("p", 128)}), 201)
}

func TestMe(t *testing.T) {
	e := newTestEnv(t)
	id := e.mustRegister("bob", "bobs password")
	r := e.request("GET", "/api/users/me", nil, basic("bob", "bobs password"))
	wantStatus(t, r, 200)
	if u := r.json(t); u["id"] != id || u["username"] != "bob" {
		t.Errorf("me = %v, want bob with id %s", u, id)
	}
	// Usernames are matched without regard to case at login too.
	wantStatus(t, e.request("GET", "/api/users/me", nil, basic("BOB", "bobs password")), 200)
}

func TestChangePassword(t *testing.T) {
	e := newTestEnv(t)
	e.mustRegister("carol", "old password")
	old := basic("carol", "old password")
	wantStatus(t, e.request("GET", "/api/users/me", nil, old), 200) // now cached

	p := wantProblem(t, e.request("PATCH", "/api/users/me", `{"password":"short"}`, old), 400)
	if got := problemFields(p); !slices.Equal(got, []string{"password"}) {
		t.Errorf("fields = %v, want [password]", got)
	}
	r := e.request("PATCH", "/api/users/me", map[string]string{"password": "new password"}, old)
	wantStatus(t, r, 200)
	if r.json(t)["username"] != "carol" {
		t.Errorf("body = %s, want the user", r.body)
	}
	// The cached old credential must stop working at once.
	wantProblem(t, e.request("GET", "/api/users/me", nil, old), 401)
	wantStatus(t, e.request("GET", "/api/users/me", nil, basic("carol", "new password")), 200)
}

func TestDeleteMe(t *testing.T) {
	e := newTestEnv(t)
	e.mustRegister("dave", "daves password")
	auth := basic("dave", "daves password")
	e.mustCreateBeer(auth, "Stout", 3)
	e.mustRegister("erin", "erins password")
	other := basic("erin", "erins password")
	e.mustCreateBeer(other, "Pils", 1)

	r := e.request("DELETE", "/api/users/me", nil, auth)
	wantStatus(t, r, http.StatusNoContent)
	if len(r.body) != 0 {
		t.Errorf("204 body = %q, want empty", r.body)
	}
	wantProblem(t, e.request("GET", "/api/beers", nil, auth), 401)

	// The name is free again, and the new account starts empty.
	e.mustRegister("dave", "daves password")
	r = e.request("GET", "/api/beers", nil, auth)
	wantStatus(t, r, 200)
	if beers := r.json(t)["beers"].([]any); len(beers) != 0 {
		t.Errorf("new account's beers = %v, want none", beers)
	}
	// Another user's data is untouched.
	r = e.request("GET", "/api/beers", nil, other)
	if beers := r.json(t)["beers"].([]any); len(beers) != 1 {
		t.Errorf("erin's beers = %v, want 1", beers)
	}
}
