package controllers

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"beerlocker/httperr"
	"beerlocker/middleware"
	"beerlocker/models"
	"beerlocker/problem"
)

// The MCP endpoint (API.md §10) is the beer locker as tools an AI agent
// calls, over MCP's Streamable HTTP transport, with the official SDK. It
// is stateless: every POST stands alone, so any instance answers any
// request and nothing is held between them. Tools run over the same
// repository and validation as the REST API, and answer the same JSON.

// mcpMaxBody bounds an MCP request's body; a tool call is a few hundred
// bytes.
const mcpMaxBody = 64 << 10

// mcpProtocolVersions are the MCP versions served: 2025-06-18, the first
// with this authorization model, and every later one the SDK speaks.
var mcpProtocolVersions = []string{"2026-07-28", "2025-11-25", "2025-06-18"}

// mcpToolScopes is the scope each tool needs: the one place of that rule.
var mcpToolScopes = map[string]string{
	"list_beers":  models.ScopeBeersRead,
	"get_beer":    models.ScopeBeersRead,
	"add_beer":    models.ScopeBeersWrite,
	"update_beer": models.ScopeBeersWrite,
	"delete_beer": models.ScopeBeersWrite,
}

// mcpEndpoint answers /mcp for an authenticated user (auth.RequireBearer
// runs first, so a request without a valid token never gets this far and
// its body is never read). A tool call the token's scopes do not cover
// is refused here, over HTTP, with the 403 challenge agents act on.
func mcpEndpoint(beers models.BeerRepository, now clock, publicURL, resourceMetadata string, log *slog.Logger) gin.HandlerFunc {
	server := newMCPServer(beers, now, log)
	sdk := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, &mcp.StreamableHTTPOptions{
		Stateless:    true,
		JSONResponse: true,
		// The SDK's own rebinding check refuses every Host but a loopback
		// one on a loopback listener, which is where a reverse proxy
		// connects; sameHost below allows PUBLIC_URL's host too.
		DisableLocalhostProtection: true,
		MaxRequestBodyBytes:        mcpMaxBody,
		Logger:                     log,
	})
	// The SDK hands tool handlers what a TokenVerifier returns; the token
	// was verified already, so this one only passes the principal on.
	withPrincipal := auth.RequireBearerToken(func(ctx context.Context, _ string, _ *http.Request) (*auth.TokenInfo, error) {
		p, _ := ctx.Value(principalContextKey{}).(*middleware.Principal)
		if p == nil {
			return nil, auth.ErrInvalidToken
		}
		return &auth.TokenInfo{UserID: p.UserID, Scopes: p.Scopes, Extra: map[string]any{principalExtra: p}}, nil
	}, &auth.RequireBearerTokenOptions{AllowMissingExpiration: true})(sdk)
	publicHost := hostOf(publicURL)

	return func(c *gin.Context) {
		if !sameHost(c.Request, publicHost) {
			problem.Abort(c, problem.Problem{Status: http.StatusForbidden, Title: "Wrong host",
				Detail: "This MCP endpoint answers only at " + publicURL + "."})
			return
		}
		p := middleware.GetPrincipal(c)
		if c.Request.Method == http.MethodPost && strings.HasPrefix(c.ContentType(), "application/json") {
			body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, mcpMaxBody))
			if err != nil {
				problem.Abort(c, problem.Problem{Status: http.StatusRequestEntityTooLarge,
					Detail: "An MCP request body is at most 64 KiB."})
				return
			}
			msgs, rpcErr := decodeMCPBody(body)
			if rpcErr != nil {
				writeRPCError(c, rpcErr)
				return
			}
			if scope := missingToolScope(msgs, p.Scopes); scope != "" {
				httperr.ChallengeScope(c.Writer.Header(), scope, resourceMetadata)
				problem.Abort(c, problem.Problem{Status: http.StatusForbidden, Title: "Insufficient scope",
					Detail: "This token lacks the scope " + scope + "."})
				return
			}
			c.Request.Body = io.NopCloser(bytes.NewReader(body))
		}
		r := c.Request.WithContext(context.WithValue(c.Request.Context(), principalContextKey{}, p))
		w := &problemWriter{ResponseWriter: c.Writer}
		withPrincipal.ServeHTTP(w, r)
		if w.status != 0 {
			c.Writer.Header().Del("Content-Type")
			problem.Abort(c, problem.Problem{Status: w.status, Detail: strings.TrimSpace(w.text.String())})
		}
	}
}

// decodeMCPBody reads a POST's JSON-RPC message, or batch of them, as the
// SDK does, and says what is wrong with one it cannot read: JSON-RPC's
// parse error or invalid request, which a client understands, rather than
// the SDK's plain-text 400.
func decodeMCPBody(body []byte) ([]jsonrpc.Message, *jsonrpc.Error) {
	if !json.Valid(body) {
		return nil, &jsonrpc.Error{Code: jsonrpc.CodeParseError, Message: "the body is not JSON"}
	}
	raws := []json.RawMessage{body}
	if trimmed := bytes.TrimSpace(body); trimmed[0] == '[' {
		if json.Unmarshal(trimmed, &raws) != nil || len(raws) == 0 {
			return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidRequest, Message: "a batch is a non-empty array of JSON-RPC messages"}
		}
	}
	msgs := make([]jsonrpc.Message, len(raws))
	for i, raw := range raws {
		msg, err := jsonrpc.DecodeMessage(raw)
		if err != nil {
			return nil, &jsonrpc.Error{Code: jsonrpc.CodeInvalidRequest, Message: "not a JSON-RPC 2.0 message: " + err.Error()}
		}
		msgs[i] = msg
	}
	return msgs, nil
}

// writeRPCError answers 400 with a JSON-RPC error response whose id is
// null, as JSON-RPC 2.0 §5 wants when the request's id cannot be read
// (the SDK's encoder leaves a zero id out).
func writeRPCError(c *gin.Context, e *jsonrpc.Error) {
	c.AbortWithStatusJSON(http.StatusBadRequest, struct {
		JSONRPC string         `json:"jsonrpc"`
		ID      *string        `json:"id"`
		Error   *jsonrpc.Error `json:"error"`
	}{"2.0", nil, e})
}

// problemWriter holds back the SDK's plain-text refusals (405, 406, 413,
// 415, an unknown protocol version) so that they go out as API.md §2's
// problems, like every other error of this server; its JSON answers pass
// straight through.
type problemWriter struct {
	http.ResponseWriter
	status int // the refusal's status, once one is held back
	text   bytes.Buffer
}

func (w *problemWriter) WriteHeader(code int) {
	if code >= 400 && strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain") {
		w.status = code
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *problemWriter) Write(b []byte) (int, error) {
	if w.status != 0 {
		return w.text.Write(b)
	}
	return w.ResponseWriter.Write(b)
}

func (w *problemWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok && w.status == 0 {
		f.Flush()
	}
}

func (w *problemWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

type principalContextKey struct{}

// principalExtra keys the principal in auth.TokenInfo.Extra.
const principalExtra = "principal"

// missingToolScope returns the scope a tool call among msgs needs that
// scopes lack, or "".
func missingToolScope(msgs []jsonrpc.Message, scopes []string) string {
	for _, msg := range msgs {
		req, ok := msg.(*jsonrpc.Request)
		if !ok || req.Method != "tools/call" {
			continue
		}
		var call struct {
			Name string `json:"name"`
		}
		if json.Unmarshal(req.Params, &call) != nil {
			continue // the SDK refuses it
		}
		if scope, known := mcpToolScopes[call.Name]; known && !models.HasScopes(scopes, []string{scope}) {
			return scope
		}
	}
	return ""
}

// sameHost refuses DNS rebinding: a request that reached a loopback
// listener must name a loopback host or PUBLIC_URL's, never a host some
// web page's DNS pointed at this machine.
func sameHost(r *http.Request, publicHost string) bool {
	local, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok || !isLoopbackHost(hostOf("//"+local.String())) {
		return true
	}
	host := hostOf("//" + r.Host)
	return isLoopbackHost(host) || strings.EqualFold(host, publicHost)
}

// hostOf is the host of a URL (or "//host:port"), without its port.
func hostOf(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	return u.Hostname()
}

func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// newMCPServer is the MCP server of the five beer tools.
func newMCPServer(beers models.BeerRepository, now clock, log *slog.Logger) *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: "beerlocker", Title: "Beer Locker", Version: "1.0.0"}, &mcp.ServerOptions{
		Instructions:              "Manage the signed-in user's beer locker: list, read, add, update and delete beers.",
		SupportedProtocolVersions: mcpProtocolVersions,
		Logger:                    log,
	})
	t := beerTools{beers: beers, now: now, log: log}
	readOnly := &mcp.ToolAnnotations{ReadOnlyHint: true}
	mcp.AddTool(s, &mcp.Tool{Name: "list_beers", Title: "List beers", Annotations: readOnly,
		Description: "Lists the beers in the user's locker, newest first, a page at a time (limit 1–100, default 20). " +
			"Pass next_cursor from a page as cursor to get the next one."}, t.list)
	mcp.AddTool(s, &mcp.Tool{Name: "get_beer", Title: "Get a beer", Annotations: readOnly,
		Description: "Returns one beer of the user's locker by its id."}, t.get)
	mcp.AddTool(s, &mcp.Tool{Name: "add_beer", Title: "Add a beer",
		Description: "Adds a beer to the user's locker: name (1–100 characters) and quantity (0–1000000) are required, type (at most 100 characters) is optional."}, t.add)
	mcp.AddTool(s, &mcp.Tool{Name: "update_beer", Title: "Update a beer",
		Annotations: &mcp.ToolAnnotations{IdempotentHint: true},
		Description: "Changes the fields given (name, type, quantity) of one beer of the user's locker, by its id; the others stay as they are."}, t.update)
	mcp.AddTool(s, &mcp.Tool{Name: "delete_beer", Title: "Delete a beer",
		Annotations: &mcp.ToolAnnotations{DestructiveHint: new(true), IdempotentHint: true},
		Description: "Deletes one beer of the user's locker, by its id."}, t.delete)
	return s
}

// The tools' arguments. Fields the REST API validates are optional in the
// schema, so that a missing one gets API.md §4's message, not the
// schema validator's.
type (
	listBeersArgs struct {
		Limit  *int    `json:"limit,omitempty" jsonschema:"how many beers to return, 1 to 100; 20 if left out"`
		Cursor *string `json:"cursor,omitempty" jsonschema:"next_cursor of the previous page; left out for the first page"`
	}
	beerIDArgs struct {
		ID string `json:"id" jsonschema:"the beer's id"`
	}
	addBeerArgs struct {
		Name     *string `json:"name,omitempty" jsonschema:"the beer's name, 1 to 100 characters"`
		Type     *string `json:"type,omitempty" jsonschema:"its style, such as IPA; at most 100 characters"`
		Quantity *int    `json:"quantity,omitempty" jsonschema:"how many are in the locker, 0 to 1000000"`
	}
	updateBeerArgs struct {
		ID       string  `json:"id" jsonschema:"the beer's id"`
		Name     *string `json:"name,omitempty" jsonschema:"a new name, 1 to 100 characters"`
		Type     *string `json:"type,omitempty" jsonschema:"a new style; at most 100 characters"`
		Quantity *int    `json:"quantity,omitempty" jsonschema:"a new quantity, 0 to 1000000"`
	}
	deletedBeer struct {
		ID      string `json:"id"`
		Deleted bool   `json:"deleted"`
	}
)

// beerTools are the tool handlers.
type beerTools struct {
	beers models.BeerRepository
	now   clock
	log   *slog.Logger
}

func (t beerTools) list(ctx context.Context, req *mcp.CallToolRequest, in listBeersArgs) (*mcp.CallToolResult, beerListResponse, error) {
	owner, err := toolUser(req, models.ScopeBeersRead)
	if err != nil {
		return nil, beerListResponse{}, err
	}
	page, fields := pageOf(in.Limit, in.Cursor)
	if fields != nil {
		return nil, beerListResponse{}, t.fail(ctx, &models.ValidationError{Fields: fields})
	}
	list, next, err := t.beers.List(ctx, owner, page)
	if err != nil {
		return nil, beerListResponse{}, t.fail(ctx, err)
	}
	out := beerListResponse{Beers: make([]beerResponse, len(list)), NextCursor: encodeCursor(next)}
	for i, b := range list {
		out.Beers[i] = toBeerResponse(b)
	}
	return nil, out, nil
}

func (t beerTools) get(ctx context.Context, req *mcp.CallToolRequest, in beerIDArgs) (*mcp.CallToolResult, beerResponse, error) {
	owner, err := toolUser(req, models.ScopeBeersRead)
	if err != nil {
		return nil, beerResponse{}, err
	}
	b, err := t.beers.Get(ctx, owner, in.ID)
	if err != nil {
		return nil, beerResponse{}, t.fail(ctx, err)
	}
	return nil, toBeerResponse(b), nil
}

func (t beerTools) add(ctx context.Context, req *mcp.CallToolRequest, in addBeerArgs) (*mcp.CallToolResult, beerResponse, error) {
	owner, err := toolUser(req, models.ScopeBeersWrite)
	if err != nil {
		return nil, beerResponse{}, err
	}
	u := models.BeerUpdate{Name: in.Name, Type: in.Type, Quantity: in.Quantity}
	if err := u.ValidateFull(); err != nil {
		return nil, beerResponse{}, t.fail(ctx, err)
	}
	now := t.now.storeNow()
	b := &models.Beer{ID: models.NewID(now), OwnerID: owner, CreatedAt: now, UpdatedAt: now}
	u.Apply(b)
	if err := t.beers.Create(ctx, b); err != nil {
		return nil, beerResponse{}, t.fail(ctx, err)
	}
	return nil, toBeerResponse(b), nil
}

func (t beerTools) update(ctx context.Context, req *mcp.CallToolRequest, in updateBeerArgs) (*mcp.CallToolResult, beerResponse, error) {
	owner, err := toolUser(req, models.ScopeBeersWrite)
	if err != nil {
		return nil, beerResponse{}, err
	}
	u := models.BeerUpdate{Name: in.Name, Type: in.Type, Quantity: in.Quantity}
	if err := u.Validate(); err != nil {
		return nil, beerResponse{}, t.fail(ctx, err)
	}
	b, err := t.beers.Update(ctx, owner, in.ID, u, t.now.storeNow())
	if err != nil {
		return nil, beerResponse{}, t.fail(ctx, err)
	}
	return nil, toBeerResponse(b), nil
}

func (t beerTools) delete(ctx context.Context, req *mcp.CallToolRequest, in beerIDArgs) (*mcp.CallToolResult, deletedBeer, error) {
	owner, err := toolUser(req, models.ScopeBeersWrite)
	if err != nil {
		return nil, deletedBeer{}, err
	}
	if err := t.beers.Delete(ctx, owner, in.ID); err != nil {
		return nil, deletedBeer{}, t.fail(ctx, err)
	}
	return nil, deletedBeer{ID: in.ID, Deleted: true}, nil
}

// toolUser returns the user a tool call acts for, if its token has scope.
// mcpEndpoint refused a call without it already; this is the second lock.
func toolUser(req *mcp.CallToolRequest, scope string) (string, error) {
	var p *middleware.Principal
	if req.Extra != nil && req.Extra.TokenInfo != nil {
		p, _ = req.Extra.TokenInfo.Extra[principalExtra].(*middleware.Principal)
	}
	if p == nil || p.UserID == "" {
		return "", toolError("This call has no user.")
	}
	if !models.HasScopes(p.Scopes, []string{scope}) {
		return "", toolError("This token lacks the scope " + scope + ".")
	}
	return p.UserID, nil
}

// toolError is a tool's failure as the agent reads it: a tool result with
// isError set and this text (the SDK makes one of any error that is not a
// JSON-RPC error).
type toolError string

func (e toolError) Error() string { return string(e) }

// fail turns a repository's or validation's error into the tool error an
// agent can act on; what is not the caller's fault is logged, and the
// agent learns only that it failed.
func (t beerTools) fail(ctx context.Context, err error) error {
	var invalid *models.ValidationError
	switch {
	case errors.As(err, &invalid):
		parts := make([]string, len(invalid.Fields))
		for i, f := range invalid.Fields {
			parts[i] = f.Field + " " + f.Message
		}
		return toolError("The input is invalid: " + strings.Join(parts, "; ") + ".")
	case errors.Is(err, models.ErrNotFound):
		return toolError("No beer with this id is in the user's locker.")
	case errors.Is(err, models.ErrUnavailable):
		t.log.WarnContext(ctx, "mcp tool: store unavailable", "err", err)
		return toolError("The locker is unavailable just now; try again shortly.")
	default:
		t.log.ErrorContext(ctx, "mcp tool failed", "err", err)
		return toolError("The call failed on the server.")
	}
}
