package controllers_test

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"beerlocker/app"
	"beerlocker/clientmeta"
	"beerlocker/models"
)

// docServer serves client metadata documents over TLS on loopback, as an
// agent's own site would, and counts the requests it answers.
type docServer struct {
	*httptest.Server
	requests atomic.Int32
	docs     map[string]func(w http.ResponseWriter, self string)
}

func newDocServer(t *testing.T) *docServer {
	d := &docServer{docs: map[string]func(http.ResponseWriter, string){}}
	d.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		d.requests.Add(1)
		serve, ok := d.docs[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		serve(w, d.URL+r.URL.Path)
	}))
	t.Cleanup(d.Close)
	return d
}

// document serves at path a document whose fields are doc's, with its
// client_id set to its own URL unless doc names one.
func (d *docServer) document(path string, doc map[string]any) string {
	d.docs[path] = func(w http.ResponseWriter, self string) {
		out := map[string]any{"client_id": self}
		for k, v := range doc {
			out[k] = v
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "max-age=600")
		json.NewEncoder(w).Encode(out)
	}
	return d.URL + path
}

// trustDocs lets the env fetch d's documents: loopback (the development
// setting) over d's TLS certificate.
func trustDocs(d *docServer) func(*app.Options) {
	return func(o *app.Options) {
		pool := x509.NewCertPool()
		pool.AddCert(d.Certificate())
		o.ClientMetadata = clientmeta.Options{AllowHTTPLoopback: true, RootCAs: pool}
	}
}

// TestMCPWithGoSDKAgentByMetadataDocument: the MCP Go SDK's client,
// unmodified, registering the other way, by a client ID metadata document
// it serves itself: no registration request, its URL as client_id, the
// consent page naming the document's host, and the tools.
func TestMCPWithGoSDKAgentByMetadataDocument(t *testing.T) {
	docs := newDocServer(t)
	e := newLiveEnv(t, trustDocs(docs))
	e.mustRegister("alice", "alices password")
	docURL := docs.document("/agent/client.json", map[string]any{
		"client_name": "Metadata Agent", "redirect_uris": []string{agentRedirect},
		"grant_types": []string{"authorization_code", "refresh_token"}, "response_types": []string{"code"},
		"token_endpoint_auth_method": "none",
	})
	a := &agentBrowser{e: e}
	handler, err := auth.NewAuthorizationCodeHandler(&auth.AuthorizationCodeHandlerConfig{
		ClientIDMetadataDocumentConfig: &auth.ClientIDMetadataDocumentConfig{URL: docURL},
		RedirectURL:                    agentRedirect,
		AuthorizationCodeFetcher:       a.fetch,
	})
	if err != nil {
		t.Fatal(err)
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "beerlocker-test-agent", Version: "1.0.0"}, nil)
	s, err := client.Connect(t.Context(), &mcp.StreamableClientTransport{Endpoint: e.server.URL + "/mcp", OAuthHandler: handler}, nil)
	if err != nil {
		t.Fatalf("connect to /mcp: %v", err)
	}
	defer s.Close()
	if a.consents.Load() != 1 {
		t.Fatalf("%d consent pages, want 1", a.consents.Load())
	}
	host := strings.TrimPrefix(docs.URL, "https://")
	if page := a.pages[0]; !strings.Contains(page, "Metadata Agent") || !strings.Contains(page, "Its description comes from <strong>"+host+"</strong>") {
		t.Errorf("the consent page does not name the app and its document's host %s:\n%s", host, page)
	}
	added := structured[mcpBeer](t, "add_beer", callTool(t, s, "add_beer", map[string]any{"name": "Documented Dubbel", "quantity": 2}))
	if added.Name != "Documented Dubbel" {
		t.Errorf("add_beer = %+v", added)
	}
	// The app is stored under its URL, without an owner, and the document
	// was fetched once: the token endpoint read it from the cache.
	stored, err := e.deps.Services.Store.Clients.Get(t.Context(), docURL)
	if err != nil || !stored.SelfRegistered() || !stored.Public || stored.Name != "Metadata Agent" {
		t.Errorf("stored client %s: %+v, %v", docURL, stored, err)
	}
	if n := docs.requests.Load(); n != 1 {
		t.Errorf("the document was fetched %d times, want 1", n)
	}
}

// TestMetadataDocumentRefusals: a client_id URL whose document cannot be
// used is an error page that says why, never a redirect, and nothing is
// stored; without the development setting no loopback or private address
// is fetched at all.
func TestMetadataDocumentRefusals(t *testing.T) {
	docs := newDocServer(t)
	e := newOAuthEnvOn(newLiveEnv(t, trustDocs(docs)))
	base := map[string]any{"client_name": "Bad Agent", "redirect_uris": []string{agentRedirect}, "token_endpoint_auth_method": "none"}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for k, v := range base {
			m[k] = v
		}
		m[k] = v
		return m
	}
	docs.document("/target.json", base)
	docs.docs["/redirects.json"] = func(w http.ResponseWriter, self string) {
		http.Redirect(w, &http.Request{Method: "GET"}, docs.URL+"/target.json", http.StatusFound)
	}
	docs.docs["/large.json"] = func(w http.ResponseWriter, self string) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"client_id":"` + self + `","redirect_uris":["` + agentRedirect + `"],"client_name":"` + strings.Repeat("x", 6<<10) + `"}`))
	}
	docs.docs["/slow.json"] = func(w http.ResponseWriter, self string) {
		time.Sleep(6 * time.Second)
	}
	for _, tc := range []struct {
		name, clientID, want string
	}{
		{"another client_id", docs.document("/other.json", with("client_id", "https://elsewhere.example/client.json")), "client_id"},
		{"a redirect", docs.URL + "/redirects.json", "redirect"},
		{"too large", docs.URL + "/large.json", "5 KiB"},
		{"a secret", docs.document("/secret.json", with("token_endpoint_auth_method", "client_secret_basic")), "token_endpoint_auth_method"},
		{"a fragment redirect", docs.document("/fragment.json", with("redirect_uris", []string{"https://agent.example/cb#x"})), "redirect"},
		{"client_credentials", docs.document("/cc.json", with("grant_types", []string{"client_credentials"})), "grant_types"},
		{"not found", docs.URL + "/missing.json", "404"},
		{"slow", docs.URL + "/slow.json", "longer than 5s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := e.aliceBrowser()
			r := b.authorize(url.Values{"client_id": {tc.clientID}, "redirect_uri": {agentRedirect}, "response_type": {"code"},
				"code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"}, "scope": {"beers:read"}})
			wantStatus(t, r, http.StatusBadRequest)
			wantNoLocation(t, r)
			if !strings.Contains(string(r.body), tc.want) {
				t.Errorf("the error page does not say %q:\n%s", tc.want, r.body)
			}
			if _, err := e.deps.Services.Store.Clients.Get(context.Background(), tc.clientID); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("a client %s was stored (%v)", tc.clientID, err)
			}
		})
	}
	before := docs.requests.Load()

	// Without the development setting, loopback and the metadata service
	// are not fetched at all, whatever the URL.
	strict := newOAuthEnvOn(newLiveEnv(t))
	for _, id := range []string{docs.URL + "/target.json", "https://169.254.169.254/latest/meta-data/client.json",
		"http://127.0.0.1:" + docs.URL[strings.LastIndex(docs.URL, ":")+1:] + "/target.json", "https://10.0.0.1/client.json"} {
		b := strict.aliceBrowser()
		r := b.authorize(url.Values{"client_id": {id}, "redirect_uri": {agentRedirect}, "response_type": {"code"},
			"code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"}})
		wantStatus(t, r, http.StatusBadRequest)
		wantNoLocation(t, r)
		wantBodyContains(t, r, "metadata document")
	}
	if n := docs.requests.Load(); n != before {
		t.Errorf("the strict server fetched from loopback: %d requests", n-before)
	}
	// At the token endpoint too: invalid_client, with the reason.
	r := strict.postForm("/api/oauth2/token", nil, url.Values{"grant_type": {"authorization_code"}, "client_id": {docs.URL + "/target.json"},
		"code": {"x"}, "code_verifier": {strings.Repeat("v", 43)}, "redirect_uri": {agentRedirect}})
	wantOAuthError(t, r, http.StatusUnauthorized, "invalid_client")
	wantBodyContains(t, r, "metadata document")
}
