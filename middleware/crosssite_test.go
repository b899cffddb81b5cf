package middleware

import (
	"net/http"
	"testing"
)

// TestCrossSite: how a request's Origin and Sec-Fetch-Site compare with
// PUBLIC_URL's origin (RFC 6454: scheme, host and port, default ports
// omitted, case ignored).
func TestCrossSite(t *testing.T) {
	own := origin("https://Beers.Example.com:443/base/")
	if own != "https://beers.example.com" {
		t.Fatalf("origin(PUBLIC_URL) = %q", own)
	}
	for _, tc := range []struct {
		headers []string // name, value pairs
		want    bool
	}{
		{nil, false},
		{[]string{"Origin", "https://beers.example.com"}, false},
		{[]string{"Origin", "https://BEERS.example.com:443"}, false},
		{[]string{"Sec-Fetch-Site", "same-origin"}, false},
		{[]string{"Sec-Fetch-Site", "none"}, false},
		{[]string{"Sec-Fetch-Site", "same-site"}, false}, // but its Origin, always sent on such a POST, decides
		{[]string{"Sec-Fetch-Site", "same-site", "Origin", "https://shop.example.com"}, true},
		{[]string{"Sec-Fetch-Site", "cross-site"}, true},
		{[]string{"Sec-Fetch-Site", "cross-site", "Origin", "https://beers.example.com"}, true},
		{[]string{"Origin", "null"}, true},
		{[]string{"Origin", "http://beers.example.com"}, true},
		{[]string{"Origin", "https://beers.example.com:8443"}, true},
		{[]string{"Origin", "https://beers.example.com.evil.example"}, true},
		{[]string{"Origin", "not an origin"}, true},
		{[]string{"Origin", ""}, true},
		{[]string{"Origin", "https://beers.example.com", "Origin", "https://evil.example"}, true},
	} {
		h := http.Header{}
		for i := 0; i < len(tc.headers); i += 2 {
			h.Add(tc.headers[i], tc.headers[i+1])
		}
		if got := crossSite(h, own); got != tc.want {
			t.Errorf("crossSite(%v) = %v, want %v", h, got, tc.want)
		}
	}
	if got := origin("http://[::1]:3000"); got != "http://[::1]:3000" {
		t.Errorf("origin of an IPv6 URL = %q", got)
	}
}

// FuzzCrossSite: any Origin and Sec-Fetch-Site are judged without a panic,
// and an Origin is same-site only when it serializes to PUBLIC_URL's
// origin.
func FuzzCrossSite(f *testing.F) {
	for _, s := range []string{"https://beers.example.com", "null", "", "https://beers.example.com:443", "http://[::1", "https://u@beers.example.com", "\x00"} {
		f.Add(s, "cross-site")
		f.Add(s, "")
	}
	own := origin("https://beers.example.com")
	f.Fuzz(func(t *testing.T, o, site string) {
		h := http.Header{"Origin": {o}}
		if site != "" {
			h.Set("Sec-Fetch-Site", site)
		}
		if !crossSite(h, own) && origin(o) != own {
			t.Errorf("Origin %q (origin %q) passed as %q's", o, origin(o), own)
		}
	})
}
