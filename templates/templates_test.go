package templates_test

import (
	"bytes"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"beerlocker/templates"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var (
	signedIn = templates.Base{Title: "Page", CSRFToken: "csrf-token-123", Username: "alice"}
	scopes   = []templates.Scope{
		{Name: "profile", Description: "See your username and when you joined"},
		{Name: "beers:read", Description: "See the beers in your locker"},
	}
)

// samples holds data for every page; a new page without a sample fails
// TestEveryPageRenders.
var samples = map[string]any{
	"home":     templates.HomeData{Base: templates.Base{Title: "Welcome", CSRFToken: "csrf-token-123"}},
	"login":    templates.LoginData{Base: templates.Base{Title: "Log in", CSRFToken: "csrf-token-123"}, ReturnTo: "/account", EnteredUsername: "alice", Error: "The username or password is wrong.", Notice: "The app you came from asks you to enter your password again."},
	"register": templates.RegisterData{Base: templates.Base{Title: "Create an account", CSRFToken: "csrf-token-123"}, ReturnTo: "/account", EnteredUsername: "al", Error: "Please correct the fields below.", UsernameError: "must be 3–64 characters", PasswordError: "must be 8–128 characters"},
	"account": templates.AccountData{Base: signedIn, Apps: []templates.App{
		{ClientID: "blci_abc", Name: "Beer <Tracker>", Scopes: scopes, Since: time.Date(2025, 3, 14, 23, 30, 0, 0, time.UTC)},
		{ClientID: "blci_def", Name: "Cellar Sync", Scopes: scopes[1:], Since: time.Date(2025, 6, 1, 8, 0, 0, 0, time.UTC)},
	}},
	"consent": templates.ConsentData{Base: signedIn, Action: "/api/oauth2/authorize/decision", ClientName: "Beer <Tracker>", OwnerName: "dev",
		RedirectURI: "https://tracker.example/cb?x=1&y=2", Scopes: scopes, TxID: "tx-456"},
	"logout": templates.LogoutData{Base: signedIn, Action: "/api/oauth2/logout", ClientName: "Beer <Tracker>", ClientID: "blci_abc",
		PostLogoutRedirectURI: "https://tracker.example/bye?x=1&y=2", State: "st<>"},
	"signed_out": templates.SignedOutData{Base: templates.Base{Title: "Signed out"}},
	"demo": templates.DemoData{Base: templates.Base{Title: "Demo app"}, Code: "blac_code<&>", State: "demo",
		TokenURL: "http://localhost:3000/api/oauth2/token", RedirectURI: "http://localhost:3000/demo/callback", ClientID: "demo-client"},
	"error": templates.ErrorData{Base: templates.Base{Title: "Oops"}, Heading: "Unknown app", Message: "No app has the client id <x>.",
		NotFollowed: "https://app.example/cb?a=<b>"},
	"device":      templates.DeviceData{Base: signedIn, UserCode: "BCDF-<x>", Error: "That code is not valid."},
	"device_done": templates.DeviceDoneData{Base: signedIn, Approved: true, ClientName: "Beer <Tracker>"},
}

func parse(t *testing.T) *templates.Set {
	t.Helper()
	s, err := templates.Parse()
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return s
}

func render(t *testing.T, s *templates.Set, page string, data any) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	if err := s.Render(w, http.StatusOK, page, data); err != nil {
		t.Fatalf("Render(%s): %v", page, err)
	}
	return w
}

func TestEveryPageRenders(t *testing.T) {
	s := parse(t)
	names := s.Names()
	slices.Sort(names)
	for _, want := range []string{"account", "consent", "error", "home", "login", "logout", "register", "signed_out"} {
		if !slices.Contains(names, want) {
			t.Errorf("Names() = %v, missing %s", names, want)
		}
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			data, ok := samples[name]
			if !ok {
				t.Fatalf("no sample data for page %s", name)
			}
			w := render(t, s, name, data)
			body := w.Body.String()
			if got := w.Header().Get("Content-Type"); got != "text/html; charset=utf-8" {
				t.Errorf("Content-Type = %q, want text/html; charset=utf-8", got)
			}
			if !strings.Contains(body, `<meta name="viewport"`) || !strings.HasSuffix(body, "</html>") {
				t.Errorf("page is not a whole layout:\n%s", body)
			}
			// Every state-changing form carries the CSRF token.
			if forms, tokens := strings.Count(body, `method="post"`), strings.Count(body, `name="csrf_token" value="csrf-token-123"`); forms != tokens {
				t.Errorf("%d POST forms but %d CSRF fields", forms, tokens)
			}
			if strings.Contains(body, "<Tracker>") || strings.Contains(body, "<x>") {
				t.Error("data is not HTML-escaped")
			}
		})
	}
}

func TestRenderUnknownPage(t *testing.T) {
	w := httptest.NewRecorder()
	if err := parse(t).Render(w, http.StatusOK, "nope", nil); err == nil {
		t.Error("Render of an unknown page: err = nil, want an error")
	}
	if w.Body.Len() != 0 {
		t.Error("Render of an unknown page wrote a body")
	}
}

func TestRenderErrorWritesNothing(t *testing.T) {
	w := httptest.NewRecorder()
	if err := parse(t).Render(w, http.StatusOK, "account", struct{ Title string }{"wrong data"}); err == nil {
		t.Fatal("Render with the wrong data: err = nil, want an error")
	}
	if w.Body.Len() != 0 || w.Code != http.StatusOK || w.Header().Get("Content-Type") != "" {
		t.Errorf("Render that failed wrote a response: %d %q", w.Code, w.Body.String())
	}
}

func TestFormsAreAccessible(t *testing.T) {
	s := parse(t)
	for _, tc := range []struct{ page, want string }{
		{"login", `<label for="username">`},
		{"login", `id="username" name="username"`},
		{"login", `autocomplete="username"`},
		{"login", `autocomplete="current-password"`},
		{"login", `role="alert"`},
		{"login", `role="status"`},
		{"register", `autocomplete="new-password"`},
		{"register", `<label for="password">`},
		{"register", `role="alert"`},
		{"error", `role="alert"`},
	} {
		if body := render(t, s, tc.page, samples[tc.page]).Body.String(); !strings.Contains(body, tc.want) {
			t.Errorf("%s page lacks %s", tc.page, tc.want)
		}
	}
}

// TestGolden compares the consent and account pages with testdata/*.golden;
// go test ./templates -update rewrites them.
func TestGolden(t *testing.T) {
	s := parse(t)
	for _, page := range []string{"consent", "account"} {
		t.Run(page, func(t *testing.T) {
			got := render(t, s, page, samples[page]).Body.Bytes()
			path := filepath.Join("testdata", page+".golden")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test ./templates -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from %s; if the change is intended, run go test ./templates -update\n--- got:\n%s", page, path, got)
			}
		})
	}
}
