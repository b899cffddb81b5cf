package controllers

import (
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"beerlocker/models"
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
		got := safeReturnTo(s)
		if safeReturnTo(got) != got {
			t.Fatalf("safeReturnTo(%q) = %q is not stable", s, got)
		}
		if got == defaultReturnTo {
			return
		}
		if got != s {
			t.Fatalf("safeReturnTo(%q) = %q, want the input or %q", s, got, defaultReturnTo)
		}
		if !strings.HasPrefix(got, "/") || strings.HasPrefix(got, "//") || strings.ContainsAny(got, "\\\t\r\n") {
			t.Fatalf("safeReturnTo(%q) = %q: not a plain local path", s, got)
		}
		u, err := url.Parse(got)
		if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" ||
			strings.HasPrefix(u.Path, "//") || strings.Contains(u.Path, "\\") {
			t.Fatalf("safeReturnTo(%q) = %q, which parses as %#v (%v)", s, got, u, err)
		}
		if r := base.ResolveReference(u); r.Scheme != base.Scheme || r.Host != base.Host || r.User != nil {
			t.Fatalf("safeReturnTo(%q) = %q resolves to %s", s, got, r)
		}
	})
}

// FuzzCursor checks the pagination cursor: every id round-trips through
// encodeCursor and decodeCursor, and decodeCursor accepts only the one
// cursor encodeCursor makes of a valid id.
func FuzzCursor(f *testing.F) {
	id := models.NewID(time.Now())
	for _, s := range []string{encodeCursor(id), encodeCursor(strings.ToUpper(id)), "", "AAAA", "!!!",
		encodeCursor("01jx00000000000000000000000"), strings.Repeat("M", 65), encodeCursor(id)[:34] + "B"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if models.ValidID(s) {
			if got, ok := decodeCursor(encodeCursor(s)); !ok || got != s {
				t.Fatalf("decodeCursor(encodeCursor(%q)) = %q, %v", s, got, ok)
			}
		}
		got, ok := decodeCursor(s)
		if !ok {
			if got != "" {
				t.Fatalf("decodeCursor(%q) = %q with ok = false", s, got)
			}
			return
		}
		if !models.ValidID(got) {
			t.Fatalf("decodeCursor(%q) = %q, not a valid id", s, got)
		}
		if encodeCursor(got) != s {
			t.Fatalf("decodeCursor(%q) = %q, whose cursor is %q: more than one cursor per id", s, got, encodeCursor(got))
		}
	})
}

// FuzzParsePage checks the list query: limit is accepted exactly when it
// is a number from 1 to 100, the cursor when decodeCursor accepts it, and
// any refusal is a 400 naming the bad parameters in order.
func FuzzParsePage(f *testing.F) {
	gin.SetMode(gin.ReleaseMode)
	f.Add("")
	f.Add("limit=10")
	f.Add("limit=0&cursor=x")
	f.Add("limit=101")
	f.Add("limit=%2B5")
	f.Add("limit=1e2")
	f.Add("cursor=" + encodeCursor(models.NewID(time.Now())))
	f.Add("limit=10&limit=x")
	f.Fuzz(func(t *testing.T, query string) {
		c, _ := gin.CreateTestContext(httptest.NewRecorder())
		c.Request = httptest.NewRequest("GET", "/api/beers", nil)
		c.Request.URL.RawQuery = query
		page, err := parsePage(c)
		q := c.Request.URL.Query()
		var wantFields []string
		if s, ok := q["limit"]; ok {
			if n, err := strconv.Atoi(s[0]); err != nil || n < 1 || n > 100 {
				wantFields = append(wantFields, "limit")
			}
		}
		if s, ok := q["cursor"]; ok {
			if _, valid := decodeCursor(s[0]); !valid {
				wantFields = append(wantFields, "cursor")
			}
		}
		if err == nil {
			if wantFields != nil || page.Limit < 1 || page.Limit > 100 || page.After != "" && !models.ValidID(page.After) {
				t.Fatalf("parsePage(%q) = %+v, want fields %q refused", query, page, wantFields)
			}
			return
		}
		re, ok := err.(*requestError)
		if !ok || re.status != 400 || len(re.fields) != len(wantFields) {
			t.Fatalf("parsePage(%q) error = %v, want 400 on %q", query, err, wantFields)
		}
		for i, fe := range re.fields {
			if fe.Field != wantFields[i] {
				t.Fatalf("parsePage(%q) fields = %+v, want %q", query, re.fields, wantFields)
			}
		}
	})
}
