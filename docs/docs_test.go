package docs_test

import (
	"context"
	"io"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gin-gonic/gin"

	"beerlocker/app"
	"beerlocker/docs"
	"beerlocker/models"
)

func load(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(docs.OpenAPI)
	if err != nil {
		t.Fatalf("load docs/openapi.json: %v", err)
	}
	return doc
}

func TestDocumentIsValidOpenAPI31(t *testing.T) {
	doc := load(t)
	if doc.OpenAPI != "3.1.0" || !doc.IsOpenAPI31OrLater() {
		t.Errorf("openapi = %q, want 3.1.0", doc.OpenAPI)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("docs/openapi.json is not a valid OpenAPI document: %v", err)
	}
}

// TestEveryOperationHasAnIDAndResponses keeps the document usable by code
// generators and by the response checks of the handler tests.
func TestEveryOperationHasAnIDAndResponses(t *testing.T) {
	doc := load(t)
	ids := map[string]string{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			where := method + " " + path
			if op.OperationID == "" {
				t.Errorf("%s: no operationId", where)
			} else if prev, dup := ids[op.OperationID]; dup {
				t.Errorf("%s: operationId %q is also used by %s", where, op.OperationID, prev)
			}
			ids[op.OperationID] = where
			if op.Responses.Len() == 0 {
				t.Errorf("%s: no responses", where)
			}
			if op.Responses.Default() != nil {
				t.Errorf("%s: a default response would let undocumented statuses pass", where)
			}
			if op.Security == nil {
				t.Errorf("%s: no security requirement (use [] for a public operation)", where)
			}
		}
	}
}

var ginParam = regexp.MustCompile(`[:*]([A-Za-z0-9_]+)`)

// TestDocumentMatchesRoutes fails when a route is added to the router
// without an operation in the document, or the other way round.
func TestDocumentMatchesRoutes(t *testing.T) {
	doc := load(t)
	documented := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented[method+" "+path] = true
		}
	}

	gin.SetMode(gin.TestMode) // as app.Run sets it for the service; the router leaves it alone
	a, err := app.New(app.Options{
		PublicURL: "http://localhost:3000",
		Secret:    []byte("docs test secret, thirty-two bytes long"),
		Argon2:    models.TestArgon2,
		Log:       slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now:       time.Now,
	}, &models.Store{}) // only the routes are read: no handler runs
	if err != nil {
		t.Fatal(err)
	}
	routed := map[string]bool{}
	for _, r := range a.Router.Routes() {
		routed[r.Method+" "+ginParam.ReplaceAllString(r.Path, "{$1}")] = true
	}

	var missing, extra []string
	for k := range routed {
		if !documented[k] {
			missing = append(missing, k)
		}
	}
	for k := range documented {
		if !routed[k] {
			extra = append(extra, k)
		}
	}
	slices.Sort(missing)
	slices.Sort(extra)
	if len(missing) > 0 {
		t.Errorf("routes without an operation in docs/openapi.json:\n  %s", strings.Join(missing, "\n  "))
	}
	if len(extra) > 0 {
		t.Errorf("operations in docs/openapi.json without a route:\n  %s", strings.Join(extra, "\n  "))
	}
}

// TestEnumsMatchTheModels keeps the scopes and grant types the document
// lists in step with the ones the server knows.
func TestEnumsMatchTheModels(t *testing.T) {
	doc := load(t)
	flows := doc.Components.SecuritySchemes["oauth2"].Value.Flows
	for name, flow := range map[string]*openapi3.OAuthFlow{
		"authorizationCode": flows.AuthorizationCode, "clientCredentials": flows.ClientCredentials, "password": flows.Password,
	} {
		var got []string
		for s := range flow.Scopes {
			got = append(got, s)
		}
		if !sameSet(got, models.AllScopes()) {
			t.Errorf("oauth2 %s flow scopes = %v, want %v", name, got, models.AllScopes())
		}
	}
	var grants []string
	for _, g := range doc.Components.Schemas["GrantType"].Value.Enum {
		grants = append(grants, g.(string))
	}
	if !sameSet(grants, models.GrantTypes()) {
		t.Errorf("GrantType enum = %v, want %v", grants, models.GrantTypes())
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
