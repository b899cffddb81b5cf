package app_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"testing"
	"time"

	"beerlocker/e2e/e2etest"
)

// clientFrom returns an HTTP client whose connections come from the
// loopback address ip (Linux routes all of 127.0.0.0/8 to lo), so tests can
// be several clients on one machine.
func clientFrom(t *testing.T, ip string) *http.Client {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		},
	}}
}

// basicStatus sends GET /api/users/me with Basic credentials (and
// X-Forwarded-For when xff is not empty) and returns the status and the
// Retry-After header.
func basicStatus(t *testing.T, c *http.Client, base, user, pass, xff string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", base+"/api/users/me", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(user, pass)
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s/api/users/me: %v", base, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Retry-After")
}

// TestTrustedProxies runs the service (real argon2 cost; an address may
// fail 5 times, then once a minute, so that the slow hashes under the race
// detector do not refill it meanwhile) behind a real reverse proxy, httputil.ReverseProxy, which appends the
// address of its client to X-Forwarded-For as nginx and Caddy do, with
// TRUSTED_PROXIES naming the proxy's address (API.md §8). Every limit
// counts the client behind the proxy: an attacker's failures through the
// proxy do not lock out alice on another address behind the same proxy,
// and neither a client of the proxy nor one that connects directly can
// pick its address by sending X-Forwarded-For itself.
func TestTrustedProxies(t *testing.T) {
	base, _ := e2etest.StartInProcess(t, map[string]string{
		"ADDR": "127.0.0.1:0", "DATA_DIR": t.TempDir(),
		// The proxy below connects to the service from 127.0.0.1; its
		// clients come from 127.0.0.2 to 127.0.0.5.
		"TRUSTED_PROXIES":          "127.0.0.1/32",
		"RATE_LIMIT_ADDRESS_BURST": "5", "RATE_LIMIT_ADDRESS_PER_MINUTE": "1",
	})
	if resp, body := e2etest.RequestJSON(t, "POST", base+"/api/users", `{"username":"alice","password":"alices password"}`, "", ""); resp.StatusCode != 201 {
		t.Fatalf("register alice: %d %s", resp.StatusCode, body)
	}
	target, _ := url.Parse(base)
	proxy := httptest.NewServer(httputil.NewSingleHostReverseProxy(target))
	t.Cleanup(proxy.Close)
	attacker, alice, direct := clientFrom(t, "127.0.0.2"), clientFrom(t, "127.0.0.3"), clientFrom(t, "127.0.0.5")

	// 20 wrong passwords for alice from one client of the proxy, each
	// claiming another address: the proxy appends the real one, and that is
	// the one counted, so the account is soon locked for this client.
	limited := 0
	for i := range 20 {
		status, _ := basicStatus(t, attacker, proxy.URL, "alice", "wrong password", fmt.Sprintf("198.51.100.%d", i+1))
		switch status {
		case http.StatusUnauthorized:
		case http.StatusTooManyRequests:
			limited++
		default:
			t.Fatalf("wrong password %d through the proxy: status = %d, want 401 or 429", i+1, status)
		}
	}
	if limited == 0 {
		t.Fatal("20 wrong passwords through the proxy, each with a forged X-Forwarded-For, were never limited: the forged address was believed")
	}
	if status, _ := basicStatus(t, attacker, proxy.URL, "alice", "alices password", "203.0.113.50"); status != http.StatusTooManyRequests {
		t.Errorf("the attacker with the right password and a fresh forged address: status = %d, want 429 (it cannot pick its address)", status)
	}

	// alice, on another address behind the same proxy, is not held up.
	if status, retry := basicStatus(t, alice, proxy.URL, "alice", "alices password", ""); status != http.StatusOK {
		t.Fatalf("alice through the proxy from another address: status = %d (Retry-After %q), want 200", status, retry)
	}

	// A client that connects directly is not a trusted proxy: its
	// X-Forwarded-For is ignored, so forging a new address for every
	// guess still counts every guess against its own.
	for i := range 5 {
		if status, _ := basicStatus(t, direct, base, fmt.Sprintf("nobody%d", i), "wrong password", fmt.Sprintf("192.0.2.%d", i+1)); status != http.StatusUnauthorized {
			t.Fatalf("direct guess %d: status = %d, want 401", i+1, status)
		}
	}
	if status, retry := basicStatus(t, direct, base, "nobody-else", "wrong password", "192.0.2.200"); status != http.StatusTooManyRequests || retry == "" {
		t.Errorf("the 6th direct guess with a forged X-Forwarded-For: status = %d (Retry-After %q), want 429 with Retry-After: the header was believed from a peer that is not a trusted proxy", status, retry)
	}
	// That client's lockout is its own: alice through the proxy still gets in.
	if status, _ := basicStatus(t, alice, proxy.URL, "alice", "alices password", ""); status != http.StatusOK {
		t.Errorf("alice through the proxy after the direct guesses: status = %d, want 200", status)
	}
}
