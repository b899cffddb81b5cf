package models

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"
)

// The fuzz targets of this file check properties of the parsers that read
// what users send (scope strings, redirect URIs) and what the store holds
// (PHC strings). Their seeds are the f.Add calls and testdata/fuzz/; the
// normal test run replays both. `make fuzz` explores further.

// FuzzParseScope checks that a parsed scope is canonical: known scopes in
// the order of Scopes, each once, exactly the words of the input, and that
// parsing its own output gives it back.
func FuzzParseScope(f *testing.F) {
	for _, s := range []string{"", "profile", "beers:write profile", "profile  profile", " clients ",
		"profile\tbeers:read", "profile beers:read beers:write clients", "unknown", "PROFILE",
		strings.Repeat("profile ", 125), strings.Repeat("profile ", 126)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		scopes, ok := ParseScope(s)
		words := slices.DeleteFunc(strings.Split(s, " "), func(w string) bool { return w == "" })
		allKnown := !slices.ContainsFunc(words, func(w string) bool { return !slices.Contains(AllScopes(), w) })
		if want := len(s) <= 1000 && allKnown; ok != want {
			t.Fatalf("ParseScope(%q) ok = %v, want %v", s, ok, want)
		}
		if !ok {
			if scopes != nil {
				t.Fatalf("ParseScope(%q) = %q with ok = false", s, scopes)
			}
			return
		}
		last := -1
		for _, sc := range scopes {
			i := slices.Index(AllScopes(), sc)
			if i <= last {
				t.Fatalf("ParseScope(%q) = %q: unknown, out of order or repeated", s, scopes)
			}
			last = i
		}
		for _, w := range words {
			if !slices.Contains(scopes, w) {
				t.Fatalf("ParseScope(%q) = %q lost %q", s, scopes, w)
			}
		}
		again, ok := ParseScope(ScopeString(scopes))
		if !ok || !slices.Equal(again, scopes) {
			t.Fatalf("ParseScope(ScopeString(%q)) = %q, %v; not idempotent", scopes, again, ok)
		}
	})
}

// FuzzRedirectURIProblem checks that an accepted redirect URI is absolute,
// has no fragment or user information, uses https with a host, http on a
// loopback host, or (public clients only) a private-use scheme; and that
// adding the authorization response's parameters cannot move it to
// another scheme, host or path.
func FuzzRedirectURIProblem(f *testing.F) {
	for _, s := range []string{"https://app.example/cb", "http://127.0.0.1:8400/cb", "http://localhost/cb",
		"http://[::1]:9000/cb", "com.example.app:/oauth", "https://app.example/cb?x=1", "https://app.example/cb#f",
		"https://user@app.example/cb", "http://app.example/cb", "https:///cb", "https://:443/cb", "javascript:alert(1)",
		"/relative", "https://app.example/a b", "http://127.0.0.2/", "http://[::ffff:127.0.0.1]/cb", "https://a.example:99999/"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, raw string, public bool) {
		msg := RedirectURIProblem(raw, public)
		if !public && msg == "" && RedirectURIProblem(raw, true) != "" {
			t.Fatalf("%q is accepted for a confidential client but not a public one", raw)
		}
		if msg != "" {
			return
		}
		u, err := url.Parse(raw)
		switch {
		case len(raw) > 2000:
			t.Fatalf("%q: accepted beyond 2000 bytes", raw)
		case err != nil || !u.IsAbs():
			t.Fatalf("%q: accepted but not an absolute URI (%v)", raw, err)
		case strings.Contains(raw, "#") || u.User != nil:
			t.Fatalf("%q: accepted with a fragment or user information", raw)
		}
		switch u.Scheme {
		case "https":
			if u.Hostname() == "" {
				t.Fatalf("%q: https accepted without a host name", raw)
			}
		case "http":
			if h := u.Hostname(); h != "localhost" && h != "127.0.0.1" && h != "::1" {
				t.Fatalf("%q: http accepted for host %q", raw, h)
			}
		default:
			if !public || !strings.Contains(u.Scheme, ".") {
				t.Fatalf("%q: scheme %q accepted (public=%v)", raw, u.Scheme, public)
			}
		}
		// As oauth.redirectTo builds the redirect.
		q := u.Query()
		q.Set("code", "c")
		q.Set("state", "s")
		u.RawQuery = q.Encode()
		back, err := url.Parse(u.String())
		if err != nil || back.Scheme != u.Scheme || back.Host != u.Host || back.Path != u.Path || back.Opaque != u.Opaque {
			t.Fatalf("%q: the redirect %q does not parse back to the same place (%v)", raw, u.String(), err)
		}
	})
}

// FuzzParsePHC checks that a PHC string is accepted only in the canonical
// form Hash writes, with parameters that Check can afford, and that what
// Hash writes parses back.
func FuzzParsePHC(f *testing.F) {
	pw := &Passwords{Params: TestArgon2}
	h, err := pw.Hash("correct horse")
	if err != nil {
		f.Fatal(err)
	}
	if params, _, _, err := parsePHC(h); err != nil || params != TestArgon2 {
		f.Fatalf("parsePHC(Hash()) = %+v, %v; want the parameters it was made with", params, err)
	}
	f.Add(h)
	for _, s := range []string{"", "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$" + strings.Repeat("A", 43),
		"$argon2i$v=19$m=64,t=1,p=1$c2FsdA$AAAAAAAAAAAAAAAAAAAAAA", "$argon2id$v=19$m=64,t=0,p=1$c2FsdA$AAAAAAAAAAAAAAAAAAAAAA",
		"$argon2id$v=19$m=64,t=1,p=1x$c2FsdA$AAAAAAAAAAAAAAAAAAAAAA", "$argon2id$v=19$m=-1,t=1,p=1$c2FsdA$AAAAAAAAAAAAAAAAAAAAAA",
		"$argon2id$v=19$m=99999999,t=1,p=1$c2FsdA$AAAAAAAAAAAAAAAAAAAAAA", "$argon2id$v=19$m=64,t=1,p=256$c2FsdA$AAAAAAAAAAAAAAAAAAAAAA"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		params, salt, key, err := parsePHC(s)
		if err != nil {
			return
		}
		if params.Time == 0 || params.Threads == 0 || params.MemoryKiB > 1<<21 || len(key) < 16 {
			t.Fatalf("parsePHC(%q) accepted parameters %+v with a %d-byte key", s, params, len(key))
		}
		b64 := base64.RawStdEncoding
		canonical := fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version,
			params.MemoryKiB, params.Time, params.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
		if canonical != s {
			t.Fatalf("parsePHC(%q) accepted a non-canonical hash; canonical is %q", s, canonical)
		}
		if params.MemoryKiB <= 256 && params.Time <= 2 && len(key) <= 64 { // cheap enough to run
			if got := pw.Check(s, "correct horse"); s == h && !got {
				t.Fatalf("Check(%q) refused the password it was made of", s)
			}
		}
	})
}
