package controllers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/modelcontextprotocol/go-sdk/oauthex"
)

// agentRedirect is where the agents of these tests receive their code:
// nothing listens there, the agent's "browser" reads the Location.
const agentRedirect = "http://127.0.0.1:9/mcp-callback"

// agentBrowser is the user's side of an agent's authorization: a browser
// that signs in as alice on the real login page and presses Allow on the
// real consent page. It counts the consent pages it saw.
type agentBrowser struct {
	e        *testEnv
	consents atomic.Int32
	pages    []string // the consent pages seen, for their text
}

// fetch is an auth.AuthorizationCodeFetcher: it runs in the SDK's
// goroutines, so it returns errors rather than failing the test.
func (a *agentBrowser) fetch(ctx context.Context, args *auth.AuthorizationArgs) (*auth.AuthorizationResult, error) {
	b := a.e.newBrowser()
	if err := a.logIn(b); err != nil {
		return nil, err
	}
	next := args.URL
	for range 5 {
		if strings.HasPrefix(next, agentRedirect) {
			u, err := url.Parse(next)
			if err != nil {
				return nil, err
			}
			q := u.Query()
			if q.Get("error") != "" {
				return nil, fmt.Errorf("authorization refused: %s: %s", q.Get("error"), q.Get("error_description"))
			}
			return &auth.AuthorizationResult{Code: q.Get("code"), State: q.Get("state"), Iss: q.Get("iss")}, nil
		}
		resp, body, err := browse(ctx, b, http.MethodGet, next, nil)
		if err != nil {
			return nil, err
		}
		switch resp.StatusCode {
		case http.StatusFound, http.StatusSeeOther:
			next = resp.Request.URL.ResolveReference(mustURL(resp.Header.Get("Location"))).String()
			continue
		case http.StatusOK:
		default:
			return nil, fmt.Errorf("GET %s: %s\n%s", next, resp.Status, body)
		}
		tx, csrf := txField.FindStringSubmatch(body), csrfField.FindStringSubmatch(body)
		if tx == nil || csrf == nil {
			return nil, fmt.Errorf("GET %s: not a consent page:\n%s", next, body)
		}
		a.consents.Add(1)
		a.pages = append(a.pages, body)
		form := url.Values{"tx": {tx[1]}, "csrf_token": {csrf[1]}, "decision": {"allow"}}
		for _, m := range checkboxField.FindAllStringSubmatch(body, -1) {
			form.Add(m[1], m[2])
		}
		resp, body, err = browse(ctx, b, http.MethodPost, a.e.server.URL+"/api/oauth2/authorize/decision", form)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusSeeOther {
			return nil, fmt.Errorf("POST decision: %s\n%s", resp.Status, body)
		}
		next = resp.Header.Get("Location")
	}
	return nil, fmt.Errorf("no redirect to %s from %s", agentRedirect, args.URL)
}

var checkboxField = regexp.MustCompile(`type="checkbox" name="([^"]+)" value="([^"]*)"`)

func (a *agentBrowser) logIn(b *browser) error {
	_, page, err := browse(context.Background(), b, http.MethodGet, a.e.server.URL+"/login", nil)
	if err != nil {
		return err
	}
	csrf := csrfField.FindStringSubmatch(page)
	if csrf == nil {
		return fmt.Errorf("no csrf_token on the login page")
	}
	resp, body, err := browse(context.Background(), b, http.MethodPost, a.e.server.URL+"/login",
		url.Values{"username": {"alice"}, "password": {"alices password"}, "csrf_token": {csrf[1]}})
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusSeeOther {
		return fmt.Errorf("log in: %s\n%s", resp.Status, body)
	}
	return nil
}

// browse sends one request from b without failing the test.
func browse(ctx context.Context, b *browser, method, target string, form url.Values) (*http.Response, string, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return nil, "", err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.client.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	page, err := io.ReadAll(resp.Body)
	return resp, string(page), err
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

// connectAgent connects the MCP Go SDK's client, with its own OAuth
// support, to the env's /mcp, registering by dynamic registration.
// scopes, if not nil, narrows what the agent asks for the first time.
func connectAgent(t *testing.T, e *testEnv, a *agentBrowser, scopes []string) *mcp.ClientSession {
	t.Helper()
	first := true
	handler, err := auth.NewAuthorizationCodeHandler(&auth.AuthorizationCodeHandlerConfig{
		DynamicClientRegistrationConfig: &auth.DynamicClientRegistrationConfig{Metadata: &oauthex.ClientRegistrationMetadata{
			ClientName:              "Go SDK agent",
			RedirectURIs:            []string{agentRedirect},
			GrantTypes:              []string{"authorization_code", "refresh_token"},
			ResponseTypes:           []string{"code"},
			TokenEndpointAuthMethod: "none",
		}},
		AuthorizationCodeFetcher: a.fetch,
		ScopeFilter: func(discovered []string) []string {
			if first && scopes != nil {
				first = false
				return scopes
			}
			return discovered
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "beerlocker-test-agent", Version: "1.0.0"}, nil)
	session, err := client.Connect(t.Context(), &mcp.StreamableClientTransport{
		Endpoint: e.server.URL + "/mcp", OAuthHandler: handler,
	}, nil)
	if err != nil {
		t.Fatalf("connect to /mcp: %v", err)
	}
	t.Cleanup(func() { session.Close() })
	return session
}

// callTool calls a tool and returns its result, failing on a protocol error.
func callTool(t *testing.T, s *mcp.ClientSession, name string, args map[string]any) *mcp.CallToolResult {
	t.Helper()
	res, err := s.CallTool(t.Context(), &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return res
}

// structured decodes a successful tool result's structured content.
func structured[T any](t *testing.T, name string, res *mcp.CallToolResult) T {
	t.Helper()
	var out T
	if res.IsError {
		t.Fatalf("%s: tool error %s", name, toolText(res))
	}
	raw, err := json.Marshal(res.StructuredContent)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s: structured content %s: %v", name, raw, err)
	}
	return out
}

func toolText(res *mcp.CallToolResult) string {
	var parts []string
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			parts = append(parts, tc.Text)
		}
	}
	return strings.Join(parts, " ")
}

type mcpBeer struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Type     string `json:"type"`
	Quantity int    `json:"quantity"`
}

// TestMCPWithGoSDKAgent is an unmodified MCP Go SDK client going from
// nothing to managing alice's locker: a 401 from /mcp, protected-resource
// and authorization-server discovery, dynamic registration, the real login
// and consent pages, a token for /mcp, and the five tools.
func TestMCPWithGoSDKAgent(t *testing.T) {
	e := newLiveEnv(t)
	e.mustRegister("alice", "alices password")
	e.mustRegister("bob", "bobs password")
	bobsBeer := e.mustCreateBeer(basic("bob", "bobs password"), "Bob's Bitter", 2)
	a := &agentBrowser{e: e}
	s := connectAgent(t, e, a, nil)
	if a.consents.Load() != 1 {
		t.Fatalf("the agent went through %d consent pages, want 1", a.consents.Load())
	}
	if !strings.Contains(a.pages[0], "registered itself") {
		t.Errorf("the consent page does not say the agent registered itself:\n%s", a.pages[0])
	}

	tools, err := s.ListTools(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range tools.Tools {
		names = append(names, tool.Name)
	}
	if got := strings.Join(names, " "); got != "add_beer delete_beer get_beer list_beers update_beer" {
		t.Errorf("tools = %s", got)
	}

	list := structured[struct{ Beers []mcpBeer }](t, "list_beers", callTool(t, s, "list_beers", nil))
	if len(list.Beers) != 0 {
		t.Fatalf("alice's new locker lists %v", list.Beers)
	}
	added := structured[mcpBeer](t, "add_beer", callTool(t, s, "add_beer", map[string]any{"name": "Agent Ale", "type": "Pale ale", "quantity": 6}))
	if added.ID == "" || added.Name != "Agent Ale" || added.Type != "Pale ale" || added.Quantity != 6 {
		t.Fatalf("add_beer = %+v", added)
	}
	// What the agent added is in the REST API, the same beer.
	r := e.request("GET", "/api/beers/"+added.ID, nil, basic("alice", "alices password"))
	wantStatus(t, r, http.StatusOK)
	if r.json(t)["name"] != "Agent Ale" {
		t.Errorf("GET /api/beers/%s = %s", added.ID, r.body)
	}
	updated := structured[mcpBeer](t, "update_beer", callTool(t, s, "update_beer", map[string]any{"id": added.ID, "quantity": 5}))
	if updated.Quantity != 5 || updated.Name != "Agent Ale" {
		t.Errorf("update_beer = %+v", updated)
	}
	got := structured[mcpBeer](t, "get_beer", callTool(t, s, "get_beer", map[string]any{"id": added.ID}))
	if got != updated {
		t.Errorf("get_beer = %+v, want %+v", got, updated)
	}
	list = structured[struct{ Beers []mcpBeer }](t, "list_beers", callTool(t, s, "list_beers", map[string]any{"limit": 10}))
	if len(list.Beers) != 1 || list.Beers[0] != updated {
		t.Errorf("list_beers = %+v", list.Beers)
	}

	// Bad arguments are tool errors with the REST API's messages, and
	// change nothing.
	for _, tc := range []struct {
		name string
		args map[string]any
		want string
	}{
		{"add_beer", map[string]any{"name": "", "quantity": 1}, "name must be 1–100 characters"},
		{"add_beer", map[string]any{"type": "IPA"}, "name is required"},
		{"add_beer", map[string]any{"name": "Too many", "quantity": 2_000_000}, "quantity must be an integer from 0 to 1000000"},
		{"add_beer", map[string]any{"name": "Typed", "quantity": "six"}, "quantity"},
		{"update_beer", map[string]any{"id": added.ID, "name": strings.Repeat("x", 101)}, "name must be 1–100 characters"},
		{"list_beers", map[string]any{"limit": 0}, "limit must be an integer from 1 to 100"},
		{"list_beers", map[string]any{"cursor": "not-a-cursor"}, "cursor is not a cursor this server returned"},
		{"get_beer", map[string]any{"id": "nope"}, "No beer with this id"},
		// Bob's beer is not alice's: the agent learns only that it is not there.
		{"get_beer", map[string]any{"id": bobsBeer["id"]}, "No beer with this id"},
		{"update_beer", map[string]any{"id": bobsBeer["id"], "quantity": 0}, "No beer with this id"},
		{"delete_beer", map[string]any{"id": bobsBeer["id"]}, "No beer with this id"},
	} {
		res := callTool(t, s, tc.name, tc.args)
		if !res.IsError || !strings.Contains(toolText(res), tc.want) {
			t.Errorf("%s %v = isError %v %q, want a tool error with %q", tc.name, tc.args, res.IsError, toolText(res), tc.want)
		}
	}
	r = e.request("GET", "/api/beers/"+bobsBeer["id"].(string), nil, basic("bob", "bobs password"))
	if wantStatus(t, r, http.StatusOK); r.json(t)["quantity"] != float64(2) {
		t.Errorf("bob's beer changed: %s", r.body)
	}

	// An unknown tool is a protocol error, not a crash.
	if _, err := s.CallTool(t.Context(), &mcp.CallToolParams{Name: "drop_table"}); err == nil {
		t.Error("calling an unknown tool succeeded")
	}

	deleted := structured[struct {
		ID      string
		Deleted bool
	}](t, "delete_beer", callTool(t, s, "delete_beer", map[string]any{"id": added.ID}))
	if !deleted.Deleted || deleted.ID != added.ID {
		t.Errorf("delete_beer = %+v", deleted)
	}
	wantStatus(t, e.request("GET", "/api/beers/"+added.ID, nil, basic("alice", "alices password")), http.StatusNotFound)
}

// TestMCPStepUpForWriteScope: an agent that asked only for beers:read gets
// a 403 insufficient_scope challenge when it calls a write tool, asks the
// user again for beers:write, and its call then goes through; nothing was
// written before the user agreed.
func TestMCPStepUpForWriteScope(t *testing.T) {
	e := newLiveEnv(t)
	e.mustRegister("alice", "alices password")
	a := &agentBrowser{e: e}
	s := connectAgent(t, e, a, []string{"beers:read"})
	callTool(t, s, "list_beers", nil)
	if a.consents.Load() != 1 {
		t.Fatalf("%d consent pages before the write, want 1", a.consents.Load())
	}
	added := structured[mcpBeer](t, "add_beer", callTool(t, s, "add_beer", map[string]any{"name": "Stepped Up", "quantity": 1}))
	if a.consents.Load() != 2 {
		t.Errorf("%d consent pages after the write, want 2: the step-up asks the user", a.consents.Load())
	}
	if !strings.Contains(a.pages[1], "beers:write") && !strings.Contains(strings.ToLower(a.pages[1]), "change") {
		t.Errorf("the second consent page does not ask for writing:\n%s", a.pages[1])
	}
	r := e.request("GET", "/api/beers", nil, basic("alice", "alices password"))
	var page struct{ Beers []mcpBeer }
	if err := json.Unmarshal(r.body, &page); err != nil || len(page.Beers) != 1 || page.Beers[0].ID != added.ID {
		t.Errorf("alice's locker after the step-up: %s (%v)", r.body, err)
	}
}

// TestMCPRefusals: what /mcp answers before any tool runs.
func TestMCPRefusals(t *testing.T) {
	e := newOAuthEnvOn(newLiveEnv(t))
	md := e.server.URL + "/.well-known/oauth-protected-resource/mcp"
	initialize := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"curl","version":"1"}}}`
	mcpHeaders := []string{"Content-Type: application/json", "Accept: application/json, text/event-stream"}

	// No token, a bad one, Basic, a token for /api: 401 with the Bearer
	// challenge naming /mcp's metadata.
	apiToken := e.passwordTokens("beers:read beers:write").AccessToken
	for _, tc := range []struct {
		name, auth, wantError string
	}{
		{"none", "", ""},
		{"bad token", "Authorization: Bearer not-a-token", "invalid_token"},
		{"basic", e.alice, ""},
		{"token for /api", "Authorization: Bearer " + apiToken, "invalid_token"},
	} {
		h := append([]string{}, mcpHeaders...)
		if tc.auth != "" {
			h = append(h, tc.auth)
		}
		r := e.request("POST", "/mcp", initialize, h...)
		wantStatus(t, r, http.StatusUnauthorized)
		ch := r.Header.Values("WWW-Authenticate")
		if len(ch) != 1 || !strings.HasPrefix(ch[0], "Bearer ") || !strings.Contains(ch[0], `resource_metadata="`+md+`"`) ||
			(tc.wantError != "") != strings.Contains(ch[0], `error="`+tc.wantError+`"`) {
			t.Errorf("%s: WWW-Authenticate = %q", tc.name, ch)
		}
	}

	// A token for /mcp with beers:read only: reading works, a write tool
	// is refused with the challenge the agent acts on.
	mcpToken := e.mustToken(&e.app, url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"alices password"},
		"scope": {"beers:read"}, "resource": {e.server.URL + "/mcp"}}).AccessToken
	h := append([]string{"Authorization: Bearer " + mcpToken}, mcpHeaders...)
	r := e.request("POST", "/mcp", initialize, h...)
	wantStatus(t, r, http.StatusOK)
	if !strings.Contains(string(r.body), `"protocolVersion":"2025-06-18"`) {
		t.Errorf("initialize: %s", r.body)
	}
	call := func(name string) string {
		return `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"` + name + `","arguments":{"name":"x","quantity":1}}}`
	}
	h2 := append([]string{"MCP-Protocol-Version: 2025-06-18"}, h...)
	r = e.request("POST", "/mcp", call("add_beer"), h2...)
	wantStatus(t, r, http.StatusForbidden)
	want := `Bearer realm="beerlocker", error="insufficient_scope", scope="beers:write", resource_metadata="` + md + `"`
	if got := r.Header.Get("WWW-Authenticate"); got != want {
		t.Errorf("403 WWW-Authenticate = %q, want %q", got, want)
	}
	// A batch hides nothing.
	r = e.request("POST", "/mcp", `[`+call("list_beers")+`,`+call("delete_beer")+`]`, h...)
	wantStatus(t, r, http.StatusForbidden)
	wantStatus(t, e.request("GET", "/api/beers", nil, e.alice), http.StatusOK)
	if n := len(e.request("GET", "/api/beers", nil, e.alice).json(t)["beers"].([]any)); n != 0 {
		t.Errorf("alice has %d beers after refused writes", n)
	}

	// Malformed JSON-RPC and unknown methods are JSON-RPC errors, never a 500.
	for _, body := range []string{`{`, `{"jsonrpc":"2.0"}`, `[]`, `{"jsonrpc":"2.0","id":3,"method":"server/discover"}`,
		`{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"no_such_tool"}}`,
		`{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"get_beer","arguments":"not an object"}}`} {
		r := e.request("POST", "/mcp", body, h2...)
		if r.StatusCode >= 500 || r.StatusCode == http.StatusOK && !strings.Contains(string(r.body), `"error"`) && !strings.Contains(string(r.body), `"isError":true`) {
			t.Errorf("POST /mcp %s: %d %s", body, r.StatusCode, r.body)
		}
	}
	// GET (a server stream) and DELETE (a session) are not served by a
	// stateless server: 405, not 500.
	for _, m := range []string{"GET", "DELETE"} {
		wantStatus(t, e.request(m, "/mcp", nil, h...), http.StatusMethodNotAllowed)
	}
	// Revoking the app on /account ends its /mcp token on the next request.
	b := e.aliceBrowser()
	wantStatus(t, b.post("/account/apps/"+e.app.ID+"/revoke", url.Values{"csrf_token": {b.csrfToken("/account")}}), http.StatusSeeOther)
	r = e.request("POST", "/mcp", `{"jsonrpc":"2.0","id":9,"method":"tools/list"}`, h2...)
	wantStatus(t, r, http.StatusUnauthorized)
	if !strings.Contains(r.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Errorf("after the revocation: WWW-Authenticate = %q", r.Header.Get("WWW-Authenticate"))
	}
	mcpToken = e.mustToken(&e.app, url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"alices password"},
		"scope": {"beers:read"}, "resource": {e.server.URL + "/mcp"}}).AccessToken
	h = append([]string{"Authorization: Bearer " + mcpToken}, mcpHeaders...)

	// A Host some page's DNS pointed at this loopback server is refused.
	req, _ := http.NewRequest("POST", e.server.URL+"/mcp", strings.NewReader(initialize))
	req.Host = "attacker.example"
	for _, kv := range h {
		k, v, _ := strings.Cut(kv, ": ")
		req.Header.Set(k, v)
	}
	if r := e.do(req); r.StatusCode != http.StatusForbidden {
		t.Errorf("POST /mcp with Host attacker.example: %d %s", r.StatusCode, r.body)
	}
}

// TestMCPBehindTheProxy: behind the reverse proxy of deploy/, requests
// reach a loopback listener with PUBLIC_URL's Host, and are answered; a
// loopback Host is too (a local agent), any other Host is refused.
func TestMCPBehindTheProxy(t *testing.T) {
	e := newOAuthEnvOn(newTestEnvAt(t, openTestStore(t), "https://beer.example"))
	token := e.mustToken(&e.app, url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"alices password"},
		"scope": {"beers:read"}, "resource": {"https://beer.example/mcp"}}).AccessToken
	for host, want := range map[string]int{"beer.example": http.StatusOK, "BEER.example:443": http.StatusOK,
		"localhost:3000": http.StatusOK, "evil.example": http.StatusForbidden} {
		req, _ := http.NewRequest("POST", e.server.URL+"/mcp", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`))
		req.Host = host
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("MCP-Protocol-Version", "2025-06-18")
		if r := e.do(req); r.StatusCode != want {
			t.Errorf("Host %s: %d %s, want %d", host, r.StatusCode, r.body, want)
		}
	}
}
