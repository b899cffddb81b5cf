package pages

import (
	"strings"
	"testing"
)

func TestSafeReturnTo(t *testing.T) {
	long := "/" + strings.Repeat("a", maxReturnTo-1)
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "/account"},
		{"root", "/", "/"},
		{"path", "/account", "/account"},
		{"authorize request", "/api/oauth2/authorize?client_id=c&scope=profile%20beers%3Aread&state=x",
			"/api/oauth2/authorize?client_id=c&scope=profile%20beers%3Aread&state=x"},
		{"fragment", "/account#apps", "/account#apps"},
		{"at the limit", long, long},
		{"over the limit", long + "a", "/account"},
		{"protocol-relative", "//evil.example", "/account"},
		{"three slashes", "///evil.example", "/account"},
		{"absolute", "https://evil.example/", "/account"},
		{"scheme without slashes", "https:evil.example", "/account"},
		{"javascript", "javascript:alert(1)", "/account"},
		{"relative", "evil.example", "/account"},
		{"backslash", `/\evil.example`, "/account"},
		{"backslash later", `/a\b`, "/account"},
		{"encoded backslash", "/%5Cevil.example", "/account"},
		{"encoded slash", "/%2F/evil.example", "/account"},
		{"NUL", "\x00", "/account"},
		{"NUL in path", "/a\x00", "/account"},
		{"encoded NUL", "/a%00", "/account"},
		{"tab", "/\t/evil.example", "/account"},
		{"newline", "/a\r\nSet-Cookie: x=y", "/account"},
		{"DEL", "/a\x7f", "/account"},
		{"C1 control", "/a\u0085", "/account"},
		{"invalid UTF-8", "/a\xff", "/account"},
		{"bad escape", "/a%zz", "/account"},
		{"userinfo-looking path", "/@evil.example", "/@evil.example"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := SafeReturnTo(tc.in); got != tc.want {
				t.Errorf("SafeReturnTo(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
