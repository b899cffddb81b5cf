package clientmeta

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"
)

// Defaults of the contract.
const (
	defaultTimeout  = 5 * time.Second
	defaultMaxBytes = 5 << 10
	// maxHeaderBytes bounds the response headers, which MaxBytes does not
	// count; real documents come with a few hundred bytes of them.
	maxHeaderBytes = 16 << 10
)

// Options configure a Fetcher. Zero values take the defaults of the contract.
type Options struct {
	AllowHTTPLoopback bool             // CLIENT_METADATA_ALLOW_HTTP_LOOPBACK: also loopback documents, for development and tests
	RootCAs           *x509.CertPool   // nil: the system's roots; tests trust their loopback TLS server with it
	Timeout           time.Duration    // default 5 s
	MaxBytes          int64            // default 5 KiB
	Now               func() time.Time // default time.Now; the cache's clock
	Resolver          Resolver         // default net.DefaultResolver
}

// Resolver looks up a host's addresses; *net.Resolver is one. Tests
// substitute one that answers a chosen address (DNS rebinding).
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Fetcher fetches and caches client metadata documents. It is safe for
// concurrent use; one Fetcher should serve the whole process, so that its
// cache and shared fetches do their job.
type Fetcher struct {
	allowLoopback bool
	timeout       time.Duration
	maxBytes      int64
	now           func() time.Time
	resolver      Resolver
	client        *http.Client
	cache         *cache
	// permit decides which addresses host may reach; tests replace it to
	// let a resolved name reach their loopback server.
	permit func(host string, a netip.Addr) bool
}

// New returns a Fetcher configured by opts.
func New(opts Options) *Fetcher {
	f := &Fetcher{
		allowLoopback: opts.AllowHTTPLoopback,
		timeout:       opts.Timeout,
		maxBytes:      opts.MaxBytes,
		now:           opts.Now,
		resolver:      opts.Resolver,
		cache:         newCache(maxEntries),
	}
	if f.timeout <= 0 {
		f.timeout = defaultTimeout
	}
	if f.maxBytes <= 0 {
		f.maxBytes = defaultMaxBytes
	}
	if f.now == nil {
		f.now = time.Now
	}
	if f.resolver == nil {
		f.resolver = net.DefaultResolver
	}
	f.permit = f.permitted
	transport := &http.Transport{
		Proxy:       nil, // a proxy would do the dialing, and the checks with it
		DialContext: f.dial,
		// The transport sets ServerName to the URL's host, so the
		// certificate is verified against the name, not the dialed IP.
		TLSClientConfig:        &tls.Config{RootCAs: opts.RootCAs, MinVersion: tls.VersionTLS12},
		DisableKeepAlives:      true, // fetches are minutes apart; an idle pool would only hold sockets
		DisableCompression:     true, // so that MaxBytes counts what the server sent
		MaxResponseHeaderBytes: maxHeaderBytes,
	}
	f.client = &http.Client{
		Transport: transport,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	return f
}

// Fetch returns the document at clientID, from the cache when it is fresh.
// Its errors are *Error.
//
// The fetch itself is shared by every caller of the same URL and does not
// stop when ctx does (it has its own timeout): cancelling ctx only stops
// this caller's wait, so one impatient caller cannot fail the others.
func (f *Fetcher) Fetch(ctx context.Context, clientID string) (*Document, error) {
	if _, err := f.parseURL(clientID); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, &Error{Reason: "the fetch was canceled", Err: err}
	}
	fl := f.cache.join(clientID, f.now, func() (*Document, time.Duration, *Error) {
		return f.get(clientID)
	})
	select {
	case <-fl.done:
	case <-ctx.Done():
		return nil, &Error{Reason: "the fetch was canceled", Err: ctx.Err()}
	}
	if fl.entry.err != nil {
		return nil, fl.entry.err
	}
	return fl.entry.doc.clone(), nil
}

// get makes the one request for clientID and says how long its outcome
// may be cached.
func (f *Fetcher) get(clientID string) (*Document, time.Duration, *Error) {
	ctx, cancel := context.WithTimeout(context.Background(), f.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, clientID, nil)
	if err != nil {
		return nil, 0, &Error{Reason: "the client_id is not a URL", Err: err}
	}
	req.Header.Set("Accept", "application/json")
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, 0, f.requestError(ctx, err)
	}
	defer resp.Body.Close()
	if err := f.checkResponse(resp); err != nil {
		return nil, 0, err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, f.maxBytes+1))
	// A body cut off by the deadline can end in a clean EOF, so the
	// deadline is asked, not only the read.
	if err != nil || ctx.Err() != nil {
		return nil, 0, f.requestError(ctx, cmp.Or(err, ctx.Err()))
	}
	if int64(len(body)) > f.maxBytes {
		return nil, 0, f.tooLarge()
	}
	doc, derr := parseDocument(body, clientID)
	if derr != nil {
		return nil, 0, derr
	}
	return doc, cacheTTL(resp.Header), nil
}

// checkResponse accepts only a 200 with a JSON content type and a size, if
// it declares one, within the limit.
func (f *Fetcher) checkResponse(resp *http.Response) *Error {
	switch {
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return &Error{Reason: reasonRedirect}
	case resp.StatusCode != http.StatusOK:
		return &Error{Reason: fmt.Sprintf("the document's URL answered HTTP %d, not 200", resp.StatusCode)}
	}
	mediaType, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil || !isJSON(mediaType) {
		return &Error{Reason: "the document's Content-Type is not application/json", Err: err}
	}
	if resp.ContentLength > f.maxBytes {
		return f.tooLarge()
	}
	return nil
}

// isJSON accepts application/json and the structured syntax suffix
// application/*+json (RFC 6839 §3.1); ParseMediaType has lowercased it.
func isJSON(mediaType string) bool {
	sub, ok := strings.CutPrefix(mediaType, "application/")
	return ok && (sub == "json" || len(sub) > len("+json") && strings.HasSuffix(sub, "+json"))
}

// requestError names what went wrong with the request in the developer's
// terms; a refusal by dial is already an *Error and passes through.
func (f *Fetcher) requestError(ctx context.Context, err error) *Error {
	var e *Error
	var certErr *tls.CertificateVerificationError
	switch {
	case errors.As(err, &e):
		return e
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return &Error{Reason: "the document took longer than " + f.timeout.String(), Err: err}
	case errors.As(err, &certErr):
		return &Error{Reason: "the host's TLS certificate could not be verified", Err: err}
	default:
		return &Error{Reason: "the document could not be fetched", Err: err}
	}
}

func (f *Fetcher) tooLarge() *Error {
	size := fmt.Sprintf("%d bytes", f.maxBytes)
	if f.maxBytes%1024 == 0 {
		size = fmt.Sprintf("%d KiB", f.maxBytes/1024)
	}
	return &Error{Reason: "the document is larger than " + size}
}
