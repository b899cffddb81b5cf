package models_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"beerlocker/models"
)

func TestNewIDSortsByCreation(t *testing.T) {
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var ids []string
	for i := range 1000 {
		// Many ids in the same millisecond, and a clock that steps back.
		at := base.Add(time.Duration(i/100) * time.Millisecond)
		if i == 500 {
			at = base
		}
		ids = append(ids, models.NewID(at))
	}
	if !slices.IsSorted(ids) {
		t.Error("ids are not in creation order")
	}
	if len(slices.Compact(slices.Clone(ids))) != len(ids) {
		t.Error("ids repeat")
	}
	for _, id := range ids {
		if !models.ValidID(id) {
			t.Fatalf("ValidID(%q) = false for an id NewID made", id)
		}
	}
	for _, bad := range []string{"", "abc", strings.Repeat("z", 26), "01ARZ3NDEKTSV4RRFFQ69G5FAV", "01arz3ndektsv4rrffq69g5fa!", "01arz3ndektsv4rrffq69g5fai"} {
		if models.ValidID(bad) {
			t.Errorf("ValidID(%q) = true, want false", bad)
		}
	}
}

func TestPasswords(t *testing.T) {
	p := &models.Passwords{Params: models.TestArgon2}
	h, err := p.Hash("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Errorf("hash = %q, want a PHC argon2id string", h)
	}
	if !p.Check(h, "correct horse") || p.Check(h, "correct horsf") || p.Check(h, "") {
		t.Error("Check accepts the wrong password or refuses the right one")
	}
	h2, _ := p.Hash("correct horse")
	if h == h2 {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
	// A hash made with other parameters is checked with its own parameters.
	strong := &models.Passwords{Params: models.DefaultArgon2}
	hs, _ := strong.Hash("pw123456")
	if !strings.Contains(hs, "$m=19456,t=2,p=1$") || !p.Check(hs, "pw123456") {
		t.Errorf("default-cost hash %q not verified across settings", hs)
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=64,t=1,p=1$c2FsdA$aGFzaA", "$argon2id$v=19$m=64,t=0,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "plain"} {
		if p.Check(bad, "x") {
			t.Errorf("Check(%q) = true", bad)
		}
	}
	if p.CheckDummy("anything") {
		t.Error("CheckDummy returned true")
	}
}

func TestRedirectURIProblem(t *testing.T) {
	tests := []struct {
		uri    string
		public bool
		ok     bool
	}{
		{"https://app.example.com/cb", false, true},
		{"https://app.example.com/cb?x=1", false, true},
		{"http://localhost:8080/cb", false, true},
		{"http://127.0.0.1/cb", false, true},
		{"http://[::1]:9000/cb", false, true},
		{"com.example.app:/cb", true, true},
		{"com.example.app:/cb", false, false},
		{"myapp:/cb", true, false},
		{"http://app.example.com/cb", false, false},
		{"http://localhost.evil.com/cb", false, false},
		{"https://app.example.com/cb#frag", false, false},
		{"https://app.example.com/cb#", false, false},
		{"/relative", false, false},
		{"https://user:pw@app.example.com/cb", false, false},
		{"javascript:alert(1)", true, false},
		{"https:///nohost", false, false},
	}
	for _, tc := range tests {
		if got := models.RedirectURIProblem(tc.uri, tc.public) == ""; got != tc.ok {
			t.Errorf("RedirectURIProblem(%q, public=%v) ok = %v, want %v", tc.uri, tc.public, got, tc.ok)
		}
	}
}

func TestValidateClient(t *testing.T) {
	ok := func() *models.Client {
		return &models.Client{Name: "App", RedirectURIs: []string{"https://a.example/cb"}, GrantTypes: models.DefaultGrantTypes()}
	}
	if err := models.ValidateClient(ok()); err != nil {
		t.Fatalf("valid client: %v", err)
	}
	tests := []struct {
		name   string
		change func(c *models.Client)
	}{
		{"empty name", func(c *models.Client) { c.Name = " " }},
		{"no redirect", func(c *models.Client) { c.RedirectURIs = nil }},
		{"eleven redirects", func(c *models.Client) { c.RedirectURIs = slices.Repeat([]string{"https://a.example/cb"}, 11) }},
		{"unknown grant", func(c *models.Client) { c.GrantTypes = []string{"implicit"} }},
		{"no grants", func(c *models.Client) { c.GrantTypes = []string{} }},
		{"public with password", func(c *models.Client) { c.Public = true; c.GrantTypes = []string{"password"} }},
		{"public with client_credentials", func(c *models.Client) { c.Public = true; c.GrantTypes = []string{"client_credentials"} }},
		{"refresh alone", func(c *models.Client) { c.GrantTypes = []string{"refresh_token"} }},
	}
	for _, tc := range tests {
		c := ok()
		tc.change(c)
		var ve *models.ValidationError
		if err := models.ValidateClient(c); !errors.As(err, &ve) {
			t.Errorf("%s: err = %v, want a ValidationError", tc.name, err)
		}
	}
}

func TestParseScope(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		ok   bool
	}{
		{"", nil, true},
		{"beers:write profile", []string{"profile", "beers:write"}, true},
		{"profile profile", []string{"profile"}, true},
		{"profile  beers:read", []string{"profile", "beers:read"}, true},
		{"admin", nil, false},
		{"profile\tbeers:read", nil, false},
		{strings.Repeat("profile ", 200), nil, false},
	}
	for _, tc := range tests {
		got, ok := models.ParseScope(tc.in)
		if ok != tc.ok || !slices.Equal(got, tc.want) {
			t.Errorf("ParseScope(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestBeerUpdateValidation(t *testing.T) {
	name, q := "Tripel", 3
	full := models.BeerUpdate{Name: &name, Quantity: &q}
	if err := full.ValidateFull(); err != nil {
		t.Errorf("ValidateFull: %v", err)
	}
	var ve *models.ValidationError
	if err := (models.BeerUpdate{}).ValidateFull(); !errors.As(err, &ve) || len(ve.Fields) != 2 || ve.Fields[0].Field != "name" || ve.Fields[1].Field != "quantity" {
		t.Errorf("ValidateFull of nothing = %v, want name then quantity", err)
	}
	if err := (models.BeerUpdate{}).Validate(); err != nil {
		t.Errorf("an empty partial update is valid, got %v", err)
	}
	bad := "\xff"
	if err := (models.BeerUpdate{Name: &bad}).Validate(); err == nil {
		t.Error("invalid UTF-8 accepted as a name")
	}
}
