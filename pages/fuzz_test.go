package pages

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzSafeReturnTo checks that return_to can only lead to this site: the
// result is "/account" or the input itself, a path starting with a single
// "/" and holding no backslash or control character, which url.Parse sees
// without scheme or host and which, resolved as a browser would against
// this site, stays on this site.
func FuzzSafeReturnTo(f *testing.F) {
	for _, s := range []string{"", "/", "/account", "//evil.example", "/\\evil.example", "\\\\evil.example",
		"https://evil.example/", "/%2F%2Fevil.example", "/%5Cevil.example", "/\t/evil.example", "/a\nb",
		"/api/oauth2/authorize?client_id=c&state=x", "/account#apps", "javascript:alert(1)", "/.//evil.example",
		"/%09/evil.example", "/\x7f", "/\xff", "/a:b", "/@evil.example", "///evil.example", "/\u2028"} {
		f.Add(s)
	}
	base, _ := url.Parse("https://beerlocker.example/login")
	f.Fuzz(func(t *testing.T, s string) {
		got := SafeReturnTo(s)
		if SafeReturnTo(got) != got {
			t.Fatalf("SafeReturnTo(%q) = %q is not stable", s, got)
		}
		if got == defaultReturnTo {
			return
		}
		if got != s {
			t.Fatalf("SafeReturnTo(%q) = %q, want the input or %q", s, got, defaultReturnTo)
		}
		if !strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//") || strings.ContainsAny(got, "\\\t\r\n") {
			t.Fatalf("SafeReturnTo(%q) = %q: not a plain local path", s, got)
		}
		u, err := url.Parse(got)
		if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" ||
			strings.HasPrefix(u.Path, "//") || strings.Contains(u.Path, "\\") {
			t.Fatalf("SafeReturnTo(%q) = %q, which parses as %#v (%v)", s, got, u, err)
		}
		if r := base.ResolveReference(u); r.Scheme != base.Scheme || r.Host != base.Host || r.User != nil {
			t.Fatalf("SafeReturnTo(%q) = %q resolves to %s", s, got, r)
		}
	})
}
