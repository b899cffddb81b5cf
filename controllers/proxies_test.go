package controllers_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"beerlocker/app"
)

// remoteOf returns the client address the access log recorded for the
// request with id requestID.
func remoteOf(t *testing.T, e *testEnv, requestID string) string {
	t.Helper()
	sc := bufio.NewScanner(strings.NewReader(e.logs.String()))
	for sc.Scan() {
		var line struct {
			Msg       string `json:"msg"`
			RequestID string `json:"request_id"`
			Remote    string `json:"remote"`
		}
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "request" && line.RequestID == requestID {
			return line.Remote
		}
	}
	t.Fatalf("no access log line for request %s", requestID)
	return ""
}

// TestClientAddressBehindProxies: the client address, which every limit
// counts and the log records, is the connection's peer unless that is a
// trusted proxy (TRUSTED_PROXIES); then it is X-Forwarded-For's right-most
// entry that is not a trusted proxy (API.md §8). A client can write what
// it likes to the left of what its proxy appends, and nothing else.
func TestClientAddressBehindProxies(t *testing.T) {
	e := newTestEnvConfig(t, openTestStore(t), "http://localhost:3000", testLimits, func(o *app.Options) {
		o.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8:ffff::/48")}
	})
	for _, tc := range []struct {
		name, peer string
		headers    []string // X-Forwarded-For lines, or other "Name: value" headers
		want       string
	}{
		{"a trusted proxy names its client", "10.0.0.1", []string{"203.0.113.5"}, "203.0.113.5"},
		{"what the client sent is left of what the proxy appended", "10.0.0.1", []string{"198.51.100.1, 203.0.113.5"}, "203.0.113.5"},
		{"a chain of trusted proxies is skipped", "10.0.0.1", []string{"203.0.113.5, 10.1.2.3, 10.0.0.9"}, "203.0.113.5"},
		{"header lines count as one list", "10.0.0.1", []string{"198.51.100.1", "203.0.113.5"}, "203.0.113.5"},
		{"an IPv6 client", "2001:db8:ffff::1", []string{"2001:db8:1::7"}, "2001:db8:1::7"},
		{"nothing forwarded: the proxy itself", "10.0.0.1", nil, "10.0.0.1"},
		{"X-Real-IP is not read", "10.0.0.1", []string{"X-Real-IP: 198.51.100.9"}, "10.0.0.1"},
		{"a malformed entry from the proxy: the proxy", "10.0.0.1", []string{"203.0.113.5, not-an-address"}, "10.0.0.1"},
		{"an untrusted peer cannot pick its address", "192.0.2.50", []string{"203.0.113.5"}, "192.0.2.50"},
		{"an untrusted peer cannot pick a proxy's either", "192.0.2.50", []string{"10.0.0.1"}, "192.0.2.50"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest("GET", e.server.URL+"/healthz", nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range tc.headers {
				if k, v, ok := strings.Cut(h, ": "); ok {
					req.Header.Add(k, v)
				} else {
					req.Header.Add("X-Forwarded-For", h)
				}
			}
			r := e.from(tc.peer).do(req)
			wantStatus(t, r, http.StatusOK)
			if got := remoteOf(t, e, r.Header.Get("X-Request-ID")); got != tc.want {
				t.Errorf("client address = %q, want %q", got, tc.want)
			}
		})
	}
}
