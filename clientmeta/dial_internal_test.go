package clientmeta

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
)

// mapResolver answers from a fixed table and counts its lookups.
type mapResolver struct {
	hosts   map[string][]netip.Addr
	lookups atomic.Int64
}

func (r *mapResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	r.lookups.Add(1)
	if addrs, ok := r.hosts[host]; ok {
		return addrs, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

// TestDialUsesResolvedAddress lets a name resolve to the loopback test
// server (the address rule is relaxed for the test) and checks that the
// fetch dials the address our resolver gave, once, and still verifies the
// certificate against the name: httptest's certificate is for example.com,
// not for other.example.
func TestDialUsesResolvedAddress(t *testing.T) {
	s := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"client_id": "https://%s%s", "redirect_uris": ["https://app.example/cb"]}`, r.Host, r.URL.Path)
	}))
	defer s.Close()
	port := s.Listener.Addr().(*net.TCPAddr).Port
	pool := x509.NewCertPool()
	pool.AddCert(s.Certificate())
	loopback := []netip.Addr{netip.MustParseAddr("127.0.0.1")}
	r := &mapResolver{hosts: map[string][]netip.Addr{"example.com": loopback, "other.example": loopback}}
	f := New(Options{RootCAs: pool, Resolver: r})
	f.permit = func(_ string, a netip.Addr) bool { return a.IsLoopback() }

	clientID := fmt.Sprintf("https://example.com:%d/client.json", port)
	if _, err := f.Fetch(context.Background(), clientID); err != nil {
		t.Fatal(err)
	}
	if got := r.lookups.Load(); got != 1 {
		t.Errorf("lookups = %d, want 1", got)
	}

	_, err := f.Fetch(context.Background(), fmt.Sprintf("https://other.example:%d/client.json", port))
	var e *Error
	if !errors.As(err, &e) || !strings.Contains(e.Reason, "TLS certificate") {
		t.Errorf("err = %v, want the certificate refused for other.example", err)
	}
}

func TestSocketCheck(t *testing.T) {
	check := socketCheck(isPublic)
	for _, tc := range []struct {
		address string
		ok      bool
	}{
		{"8.8.8.8:443", true},
		{"[2606:4700::1111]:443", true},
		{"127.0.0.1:443", false},
		{"[::ffff:127.0.0.1]:443", false},
		{"169.254.169.254:80", false},
		{"[fd00:ec2::254]:80", false},
		{"localhost:443", false},
	} {
		if err := check("tcp", tc.address, nil); (err == nil) != tc.ok {
			t.Errorf("socketCheck(%s) = %v, want ok %v", tc.address, err, tc.ok)
		}
	}
}

// TestDialChecksSocket has the Control hook refuse what dial's own check
// let through: the hook alone must stop the connection.
func TestDialChecksSocket(t *testing.T) {
	port, accepts := countAccepts(t)
	f := New(Options{Resolver: &mapResolver{hosts: map[string][]netip.Addr{"client.example": {netip.MustParseAddr("127.0.0.1")}}}})
	calls := 0
	// The first call per address is dial's check, the second the hook's.
	f.permit = func(_ string, a netip.Addr) bool {
		calls++
		return calls == 1
	}

	_, err := f.dial(context.Background(), "tcp", fmt.Sprintf("client.example:%d", port))
	var e *Error
	if !errors.As(err, &e) || e.Reason != reasonNonPublic {
		t.Errorf("err = %v, want %q", err, reasonNonPublic)
	}
	if calls != 2 {
		t.Errorf("permit calls = %d, want 2", calls)
	}
	if got := accepts.Load(); got != 0 {
		t.Errorf("accepts = %d, want 0", got)
	}
}

// TestDialChecksEveryAddressFirst gives a name one allowed address that
// listens and one refused: the name is refused before either is dialed,
// rather than connecting to whichever comes first.
func TestDialChecksEveryAddressFirst(t *testing.T) {
	port, accepts := countAccepts(t)
	addrs := []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("10.0.0.1")}
	f := New(Options{Resolver: &mapResolver{hosts: map[string][]netip.Addr{"client.example": addrs}}})
	f.permit = func(_ string, a netip.Addr) bool { return a.IsLoopback() }

	conn, err := f.dial(context.Background(), "tcp", fmt.Sprintf("client.example:%d", port))
	if err == nil {
		conn.Close()
	}
	var e *Error
	if !errors.As(err, &e) || e.Reason != reasonNonPublic {
		t.Errorf("err = %v, want %q", err, reasonNonPublic)
	}
	if got := accepts.Load(); got != 0 {
		t.Errorf("accepts = %d, want 0", got)
	}
}

// countAccepts listens on loopback and counts the connections accepted.
func countAccepts(t *testing.T) (port int, accepts *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	accepts = &atomic.Int64{}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepts.Add(1)
			c.Close()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port, accepts
}
