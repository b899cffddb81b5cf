package pages

import (
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// defaultReturnTo is where a browser goes after logging in or registering
// when it brought no acceptable return_to.
const defaultReturnTo = "/account"

// maxReturnTo bounds return_to; an authorize request with every parameter
// at its limit still fits.
const maxReturnTo = 2048

// SafeReturnTo returns s if it is a path on this site, else "/account", so
// return_to cannot make the login form an open redirector (RFC 9700 §4.11).
// Browsers treat "//host" and "/\host" as another host, and strip tabs and
// newlines before resolving, so anything resembling them is refused, in the
// raw string and in its percent-decoded path alike.
func SafeReturnTo(s string) string {
	if len(s) > maxReturnTo || !localPath(s) {
		return defaultReturnTo
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" || !localPath(u.Path) {
		return defaultReturnTo
	}
	return s
}

// localPath reports whether p starts with a single "/" and holds no
// backslash, control character or invalid UTF-8.
func localPath(p string) bool {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || !utf8.ValidString(p) {
		return false
	}
	return !strings.ContainsFunc(p, func(r rune) bool { return r == '\\' || unicode.IsControl(r) })
}
