package clientmeta_test

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
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"beerlocker/clientmeta"
)

// docServer is a loopback TLS server that counts connections and requests.
type docServer struct {
	*httptest.Server
	conns    atomic.Int64
	requests atomic.Int64
}

func newDocServer(t *testing.T, h http.HandlerFunc) *docServer {
	t.Helper()
	s := &docServer{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		h(w, r)
	}))
	s.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			s.conns.Add(1)
		}
	}
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}

// fetcher returns a Fetcher that trusts s, with opts' other settings.
func (s *docServer) fetcher(opts clientmeta.Options) *clientmeta.Fetcher {
	pool := x509.NewCertPool()
	pool.AddCert(s.Certificate())
	opts.RootCAs = pool
	return clientmeta.New(opts)
}

// selfURL is the URL r was sent to, which a valid document names as its
// client_id.
func selfURL(r *http.Request) string {
	scheme := "https"
	if r.TLS == nil {
		scheme = "http"
	}
	return scheme + "://" + r.Host + r.URL.Path
}

func validDoc(clientID string) string {
	return fmt.Sprintf(`{"client_id": %q, "client_name": "Beer App", "redirect_uris": ["https://app.example/cb"]}`, clientID)
}

// serveDoc answers a valid document naming its own URL, with header's
// fields added.
func serveDoc(header ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		fmt.Fprint(w, validDoc(selfURL(r)))
	}
}

// clock is a fake Options.Now that tests move forward.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// mustFail checks that err is an *Error whose reason contains want.
func mustFail(t *testing.T, err error, want string) {
	t.Helper()
	var e *clientmeta.Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v (%T), want *clientmeta.Error", err, err)
	}
	if !strings.Contains(e.Reason, want) {
		t.Errorf("reason = %q, want it to contain %q", e.Reason, want)
	}
}

func TestFetch(t *testing.T) {
	s := newDocServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		fmt.Fprintf(w, `{
			"client_id": %q,
			"client_name": "Beer App",
			"client_uri": "https://app.example/",
			"logo_uri": "https://app.example/logo.png",
			"redirect_uris": ["https://app.example/cb", "http://127.0.0.1:8080/cb"],
			"post_logout_redirect_uris": ["https://app.example/bye"],
			"grant_types": ["authorization_code", "refresh_token"],
			"response_types": ["code"],
			"token_endpoint_auth_method": "none",
			"scope": "beers:read",
			"application_type": "web",
			"software_id": "ignored"
		}`, selfURL(r))
	})
	f := s.fetcher(clientmeta.Options{AllowHTTPLoopback: true})
	clientID := s.URL + "/client.json"

	doc, err := f.Fetch(context.Background(), clientID)
	if err != nil {
		t.Fatal(err)
	}
	want := clientmeta.Document{
		ClientID:                clientID,
		ClientName:              "Beer App",
		ClientURI:               "https://app.example/",
		LogoURI:                 "https://app.example/logo.png",
		RedirectURIs:            []string{"https://app.example/cb", "http://127.0.0.1:8080/cb"},
		PostLogoutRedirectURIs:  []string{"https://app.example/bye"},
		GrantTypes:              []string{"authorization_code", "refresh_token"},
		ResponseTypes:           []string{"code"},
		TokenEndpointAuthMethod: "none",
		Scope:                   "beers:read",
		ApplicationType:         "web",
	}
	if got, want := fmt.Sprintf("%#v", *doc), fmt.Sprintf("%#v", want); got != want {
		t.Errorf("document = %s\nwant %s", got, want)
	}
}

func TestFetchHTTPLoopback(t *testing.T) {
	var requests atomic.Int64
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		serveDoc()(w, r)
	}))
	defer s.Close()
	port := s.Listener.Addr().(*net.TCPAddr).Port

	f := clientmeta.New(clientmeta.Options{AllowHTTPLoopback: true})
	for _, host := range []string{"127.0.0.1", "localhost"} {
		clientID := fmt.Sprintf("http://%s:%d/client.json", host, port)
		doc, err := f.Fetch(context.Background(), clientID)
		if err != nil {
			t.Fatalf("%s: %v", clientID, err)
		}
		if doc.ClientID != clientID {
			t.Errorf("client_id = %q, want %q", doc.ClientID, clientID)
		}
	}
	if got := requests.Load(); got != 2 {
		t.Errorf("requests = %d, want 2", got)
	}
}

func TestFetchCaches(t *testing.T) {
	s := newDocServer(t, serveDoc())
	f := s.fetcher(clientmeta.Options{AllowHTTPLoopback: true})
	clientID := s.URL + "/client.json"

	first, err := f.Fetch(context.Background(), clientID)
	if err != nil {
		t.Fatal(err)
	}
	first.RedirectURIs[0] = "https://evil.example/cb"
	second, err := f.Fetch(context.Background(), clientID)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.requests.Load(); got != 1 {
		t.Errorf("requests = %d, want 1", got)
	}
	if got := second.RedirectURIs[0]; got != "https://app.example/cb" {
		t.Errorf("cached redirect_uris[0] = %q, changed by an earlier caller", got)
	}
}

func TestFetchCacheLifetime(t *testing.T) {
	tests := []struct {
		name         string
		cacheControl string
		fresh, stale time.Duration // a fetch this long after the first is cached / refetched
	}{
		{"none", "", 4 * time.Minute, 6 * time.Minute},
		{"short max-age clamps to 5 min", "max-age=1", 4 * time.Minute, 6 * time.Minute},
		{"max-age within range", "public, max-age=3600", 59 * time.Minute, 61 * time.Minute},
		{"long max-age clamps to 24 h", "max-age=999999", 23 * time.Hour, 25 * time.Hour},
		{"no-store", "no-store, max-age=3600", 4 * time.Minute, 6 * time.Minute},
		{"no-cache", "no-cache", 4 * time.Minute, 6 * time.Minute},
		{"invalid max-age", "max-age=soon", 4 * time.Minute, 6 * time.Minute},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newDocServer(t, serveDoc("Cache-Control", tc.cacheControl))
			clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
			f := s.fetcher(clientmeta.Options{AllowHTTPLoopback: true, Now: clk.Now})
			clientID := s.URL + "/client.json"
			start := clk.Now()

			for _, step := range []struct {
				at   time.Duration
				want int64
			}{{0, 1}, {tc.fresh, 1}, {tc.stale, 2}} {
				clk.Add(start.Add(step.at).Sub(clk.Now()))
				if _, err := f.Fetch(context.Background(), clientID); err != nil {
					t.Fatal(err)
				}
				if got := s.requests.Load(); got != step.want {
					t.Errorf("after %v: requests = %d, want %d", step.at, got, step.want)
				}
			}
		})
	}
}

func TestFetchCachesFailures(t *testing.T) {
	s := newDocServer(t, http.NotFound)
	clk := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	f := s.fetcher(clientmeta.Options{AllowHTTPLoopback: true, Now: clk.Now})
	clientID := s.URL + "/client.json"

	for _, step := range []struct {
		after time.Duration
		want  int64
	}{{0, 1}, {30 * time.Second, 1}, {31 * time.Second, 2}} {
		clk.Add(step.after)
		_, err := f.Fetch(context.Background(), clientID)
		mustFail(t, err, "HTTP 404")
		if got := s.requests.Load(); got != step.want {
			t.Errorf("requests = %d, want %d", got, step.want)
		}
	}
}

func TestFetchRedirect(t *testing.T) {
	var targetRequests atomic.Int64
	s := newDocServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/target.json" {
			targetRequests.Add(1)
			serveDoc()(w, r)
			return
		}
		http.Redirect(w, r, "/target.json", http.StatusFound)
	})
	f := s.fetcher(clientmeta.Options{AllowHTTPLoopback: true})

	_, err := f.Fetch(context.Background(), s.URL+"/client.json")
	mustFail(t, err, "the document redirects")
	if got := targetRequests.Load(); got != 0 {
		t.Errorf("redirect target requests = %d, want 0", got)
	}
}

// padded is a valid document for clientID padded with spaces to size bytes.
func padded(clientID string, size int) string {
	doc := validDoc(clientID)
	return doc + strings.Repeat(" ", size-len(doc))
}

func TestFetchSizeLimit(t *testing.T) {
	s := newDocServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/exact.json":
			fmt.Fprint(w, padded(selfURL(r), 5120))
		case "/one-over.json":
			fmt.Fprint(w, padded(selfURL(r), 5121))
		case "/chunked.json":
			// Flushed in pieces, so no Content-Length says how much comes.
			body := padded(selfURL(r), 6<<10)
			for i := 0; i < len(body); i += 1024 {
				fmt.Fprint(w, body[i:min(i+1024, len(body))])
				w.(http.Flusher).Flush()
			}
		case "/declared.json":
			// Declares 6 KiB, then stalls: only a check of Content-Length
			// fails fast instead of waiting for the timeout.
			w.Header().Set("Content-Length", "6144")
			fmt.Fprint(w, "{")
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		}
	})
	f := s.fetcher(clientmeta.Options{AllowHTTPLoopback: true, Timeout: 2 * time.Second})

	if _, err := f.Fetch(context.Background(), s.URL+"/exact.json"); err != nil {
		t.Errorf("exactly 5 KiB: %v", err)
	}
	for _, path := range []string{"/one-over.json", "/chunked.json", "/declared.json"} {
		t.Run(path, func(t *testing.T) {
			// A stalled body would end in the timeout's error, not this one.
			_, err := f.Fetch(context.Background(), s.URL+path)
			mustFail(t, err, "larger than 5 KiB")
		})
	}
}

func TestFetchSlow(t *testing.T) {
	s := newDocServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/sleeps.json":
			select {
			case <-time.After(2 * time.Second):
			case <-r.Context().Done():
				return
			}
			fmt.Fprint(w, validDoc(selfURL(r)))
		case "/trickles.json":
			// Headers at once, then a byte every 50 ms: no single read is
			// slow, only the whole.
			w.WriteHeader(http.StatusOK)
			for _, c := range []byte(validDoc(selfURL(r))) {
				w.Write([]byte{c})
				w.(http.Flusher).Flush()
				select {
				case <-time.After(50 * time.Millisecond):
				case <-r.Context().Done():
					return
				}
			}
		}
	})
	f := s.fetcher(clientmeta.Options{AllowHTTPLoopback: true, Timeout: 300 * time.Millisecond})

	for _, path := range []string{"/sleeps.json", "/trickles.json"} {
		t.Run(path, func(t *testing.T) {
			_, err := f.Fetch(context.Background(), s.URL+path)
			mustFail(t, err, "the document took longer than 300ms")
		})
	}
}

func TestFetchRejectsDocument(t *testing.T) {
	tests := []struct {
		name        string
		contentType string
		status      int
		body        string // $URL stands for the document's URL
		want        string
	}{
		{"client_id mismatch", "", 0, `{"client_id": "https://other.example/c.json", "redirect_uris": ["https://app.example/cb"]}`, "the document's client_id is not its URL"},
		{"client_id with trailing slash", "", 0, `{"client_id": "$URL/", "redirect_uris": ["https://app.example/cb"]}`, "the document's client_id is not its URL"},
		{"client_id missing", "", 0, `{"redirect_uris": ["https://app.example/cb"]}`, "client_id: is required"},
		{"client_id not a string", "", 0, `{"client_id": 1, "redirect_uris": ["https://app.example/cb"]}`, "client_id: must be a string"},
		{"client_name null", "", 0, `{"client_id": "$URL", "client_name": null, "redirect_uris": ["https://app.example/cb"]}`, "client_name: must be a string"},
		{"scope an array", "", 0, `{"client_id": "$URL", "scope": ["a"], "redirect_uris": ["https://app.example/cb"]}`, "scope: must be a string"},
		{"redirect_uris missing", "", 0, `{"client_id": "$URL"}`, "redirect_uris: is required"},
		{"redirect_uris empty", "", 0, `{"client_id": "$URL", "redirect_uris": []}`, "redirect_uris: must list at least one URI"},
		{"redirect_uris a string", "", 0, `{"client_id": "$URL", "redirect_uris": "https://app.example/cb"}`, "redirect_uris: must be an array of strings"},
		{"redirect_uris holds a number", "", 0, `{"client_id": "$URL", "redirect_uris": ["https://app.example/cb", 3]}`, "redirect_uris: must be an array of strings"},
		{"redirect_uri relative", "", 0, `{"client_id": "$URL", "redirect_uris": ["/cb"]}`, "redirect_uris: each must be an absolute URI"},
		{"grant_types an object", "", 0, `{"client_id": "$URL", "redirect_uris": ["https://app.example/cb"], "grant_types": {}}`, "grant_types: must be an array of strings"},
		{"client_secret_basic", "", 0, `{"client_id": "$URL", "redirect_uris": ["https://app.example/cb"], "token_endpoint_auth_method": "client_secret_basic"}`, "token_endpoint_auth_method: must be none"},
		{"client_secret", "", 0, `{"client_id": "$URL", "redirect_uris": ["https://app.example/cb"], "client_secret": "s3cret"}`, "client_secret: must not be in a metadata document"},
		{"client_secret_expires_at", "", 0, `{"client_id": "$URL", "redirect_uris": ["https://app.example/cb"], "client_secret_expires_at": 0}`, "client_secret_expires_at: must not be in a metadata document"},
		{"duplicate client_id", "", 0, `{"client_id": "https://other.example/c.json", "client_id": "$URL", "redirect_uris": ["https://app.example/cb"]}`, "client_id: appears twice"},
		{"array", "", 0, `["$URL"]`, "not a JSON object"},
		{"trailing data", "", 0, `{"client_id": "$URL", "redirect_uris": ["https://app.example/cb"]} {}`, "data after its JSON object"},
		{"truncated", "", 0, `{"client_id": "$URL", "redirect_uris": ["https://app.example/cb"]`, "not a JSON object"},
		{"invalid UTF-8", "", 0, "{\"client_id\": \"$URL\", \"client_name\": \"\xff\", \"redirect_uris\": [\"https://app.example/cb\"]}", "not valid UTF-8"},
		{"text/html", "text/html", 0, `{"client_id": "$URL", "redirect_uris": ["https://app.example/cb"]}`, "Content-Type is not application/json"},
		{"no content type", "none", 0, `{"client_id": "$URL", "redirect_uris": ["https://app.example/cb"]}`, "Content-Type is not application/json"},
		{"application/+json", "application/+json", 0, `{"client_id": "$URL", "redirect_uris": ["https://app.example/cb"]}`, "Content-Type is not application/json"},
		{"404", "", http.StatusNotFound, `{"client_id": "$URL", "redirect_uris": ["https://app.example/cb"]}`, "HTTP 404"},
		{"201", "", http.StatusCreated, `{"client_id": "$URL", "redirect_uris": ["https://app.example/cb"]}`, "HTTP 201"},
	}
	byPath := map[string]int{}
	for i := range tests {
		byPath[fmt.Sprintf("/case%d.json", i)] = i
	}
	s := newDocServer(t, func(w http.ResponseWriter, r *http.Request) {
		tc := tests[byPath[r.URL.Path]]
		switch tc.contentType {
		case "":
			w.Header().Set("Content-Type", "application/json")
		case "none":
			w.Header()["Content-Type"] = nil // no sniffing either
		default:
			w.Header().Set("Content-Type", tc.contentType)
		}
		if tc.status != 0 {
			w.WriteHeader(tc.status)
		}
		fmt.Fprint(w, strings.ReplaceAll(tc.body, "$URL", selfURL(r)))
	})
	f := s.fetcher(clientmeta.Options{AllowHTTPLoopback: true})

	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.Fetch(context.Background(), fmt.Sprintf("%s/case%d.json", s.URL, i))
			mustFail(t, err, tc.want)
		})
	}
}

func TestFetchAcceptsJSONContentTypes(t *testing.T) {
	for _, ct := range []string{"application/json", "Application/JSON; charset=utf-8", "application/client-metadata+json"} {
		t.Run(ct, func(t *testing.T) {
			s := newDocServer(t, serveDoc("Content-Type", ct))
			f := s.fetcher(clientmeta.Options{AllowHTTPLoopback: true})
			if _, err := f.Fetch(context.Background(), s.URL+"/client.json"); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestFetchRefusesLoopbackWithoutOption(t *testing.T) {
	s := newDocServer(t, serveDoc())
	port := s.Listener.Addr().(*net.TCPAddr).Port
	f := s.fetcher(clientmeta.Options{})

	for _, host := range []string{"127.0.0.1", "localhost", "[::1]"} {
		clientID := fmt.Sprintf("https://%s:%d/client.json", host, port)
		if !f.IsMetadataURL(clientID) {
			t.Errorf("IsMetadataURL(%q) = false, want true (refused by Fetch, not by form)", clientID)
		}
		_, err := f.Fetch(context.Background(), clientID)
		mustFail(t, err, "non-public address")
	}
	httpID := fmt.Sprintf("http://127.0.0.1:%d/client.json", port)
	if f.IsMetadataURL(httpID) {
		t.Errorf("IsMetadataURL(%q) = true, want false", httpID)
	}
	_, err := f.Fetch(context.Background(), httpID)
	mustFail(t, err, "is not an https URL")
	if got := s.conns.Load(); got != 0 {
		t.Errorf("connections = %d, want 0", got)
	}
}

// fakeResolver answers addrs for client.example, as a rebinding DNS server
// would for its victim.
type fakeResolver struct {
	addrs   []netip.Addr
	lookups atomic.Int64
}

func (r *fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	r.lookups.Add(1)
	if host != "client.example" {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return r.addrs, nil
}

func TestFetchRefusesRebinding(t *testing.T) {
	s := newDocServer(t, serveDoc())
	port := s.Listener.Addr().(*net.TCPAddr).Port
	// The server's port, so that a connection that got through would be
	// counted.
	clientID := fmt.Sprintf("https://client.example:%d/c.json", port)

	tests := []struct {
		name  string
		addrs []string
	}{
		{"loopback", []string{"127.0.0.1"}},
		{"mapped loopback", []string{"::ffff:127.0.0.1"}},
		{"ipv6 loopback", []string{"::1"}},
		{"cloud metadata", []string{"169.254.169.254"}},
		{"private among public", []string{"10.0.0.1", "8.8.8.8"}},
		{"public then loopback", []string{"8.8.8.8", "127.0.0.1"}},
	}
	for _, tc := range tests {
		for _, allowLoopback := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/AllowHTTPLoopback=%v", tc.name, allowLoopback), func(t *testing.T) {
				r := &fakeResolver{}
				for _, a := range tc.addrs {
					r.addrs = append(r.addrs, netip.MustParseAddr(a))
				}
				f := s.fetcher(clientmeta.Options{AllowHTTPLoopback: allowLoopback, Resolver: r})
				_, err := f.Fetch(context.Background(), clientID)
				mustFail(t, err, "the host resolves to a non-public address")
				if got := r.lookups.Load(); got != 1 {
					t.Errorf("lookups = %d, want 1", got)
				}
			})
		}
	}
	if got := s.conns.Load(); got != 0 {
		t.Errorf("connections = %d, want 0", got)
	}
}

func TestFetchUnresolvableHost(t *testing.T) {
	f := clientmeta.New(clientmeta.Options{Resolver: &fakeResolver{}})
	_, err := f.Fetch(context.Background(), "https://nowhere.example/c.json")
	mustFail(t, err, "the host could not be resolved")
}

func TestFetchConcurrent(t *testing.T) {
	s := newDocServer(t, func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(200 * time.Millisecond)
		serveDoc()(w, r)
	})
	f := s.fetcher(clientmeta.Options{AllowHTTPLoopback: true})
	clientID := s.URL + "/client.json"

	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			_, err := f.Fetch(context.Background(), clientID)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if got := s.requests.Load(); got != 1 {
		t.Errorf("requests = %d, want 1", got)
	}
}

func TestFetchCanceledCallerLeavesFetchRunning(t *testing.T) {
	s := newDocServer(t, func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(200 * time.Millisecond)
		serveDoc()(w, r)
	})
	f := s.fetcher(clientmeta.Options{AllowHTTPLoopback: true})
	clientID := s.URL + "/client.json"

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := f.Fetch(ctx, clientID)
	mustFail(t, err, "the fetch was canceled")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want it to wrap context.DeadlineExceeded", err)
	}
	if _, err := f.Fetch(context.Background(), clientID); err != nil {
		t.Fatal(err)
	}
	if got := s.requests.Load(); got != 1 {
		t.Errorf("requests = %d, want 1: the second caller should join the first fetch", got)
	}
}

func TestFetchRefusesInvalidURL(t *testing.T) {
	f := clientmeta.New(clientmeta.Options{Resolver: &fakeResolver{}})
	_, err := f.Fetch(context.Background(), "https://client.example/")
	mustFail(t, err, "the client_id has no path")
}

func TestErrorHidesCause(t *testing.T) {
	err := &clientmeta.Error{Reason: "the host resolves to a non-public address", Err: errors.New("dial 10.0.0.1")}
	if got, want := err.Error(), "client metadata: the host resolves to a non-public address"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if errors.Unwrap(err) == nil {
		t.Error("Unwrap() = nil, want the cause")
	}
}
