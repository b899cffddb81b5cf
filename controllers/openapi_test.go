package controllers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"beerlocker/docs"
)

// spec is docs/openapi.json, loaded, validated and routed once for the
// whole test binary.
var spec struct {
	once   sync.Once
	doc    *openapi3.T
	router routers.Router
	err    error
}

func loadSpec() (*openapi3.T, routers.Router, error) {
	spec.once.Do(func() {
		doc, err := openapi3.NewLoader().LoadFromData(docs.OpenAPI)
		if err != nil {
			spec.err = fmt.Errorf("load docs/openapi.json: %w", err)
			return
		}
		ctx := context.Background()
		if err := doc.Validate(ctx); err != nil {
			spec.err = fmt.Errorf("docs/openapi.json is invalid: %w", err)
			return
		}
		router, err := gorillamux.NewRouter(doc)
		if err != nil {
			spec.err = fmt.Errorf("route docs/openapi.json: %w", err)
			return
		}
		spec.doc, spec.router = doc, router
	})
	return spec.doc, spec.router, spec.err
}

// responseCheckOptions check that the status is documented and skip the
// security requirements: tests send bad credentials on purpose.
var responseCheckOptions = &openapi3filter.Options{
	IncludeResponseStatus: true,
	MultiError:            true,
	AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
}

// checkResponse fails the test when a response does not conform to
// docs/openapi.json: a status the operation does not document, a content
// type it does not list, a required header missing, or a JSON body that
// does not match the schema. HTML bodies are checked for status, content
// type and headers only. Requests are not validated: tests send bad ones
// on purpose. A request to no documented operation must have been answered
// 404 or 405 with a problem body.
func checkResponse(t testing.TB, req *http.Request, resp *http.Response, body []byte) {
	t.Helper()
	doc, router, err := loadSpec()
	if err != nil {
		t.Errorf("openapi: %v", err)
		return
	}
	if req.GetBody != nil { // replay the body for anyone who reads it
		req = req.Clone(req.Context())
		req.Body, _ = req.GetBody()
	}
	where := fmt.Sprintf("%s %s → %d", req.Method, req.URL.RequestURI(), resp.StatusCode)

	route, pathParams, err := router.FindRoute(req)
	if err != nil {
		checkNoRoute(t, doc, where, resp, body)
		return
	}
	// ValidateResponse passes 301, 304, 307 and 308 unchecked; a status
	// must be documented all the same.
	if route.Operation.Responses.Status(resp.StatusCode) == nil {
		t.Errorf("%s: status %d is not documented for operation %s in docs/openapi.json\nbody: %.500s",
			where, resp.StatusCode, route.Operation.OperationID, body)
		return
	}
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: req, PathParams: pathParams, Route: route, Options: responseCheckOptions,
		},
		Status:  resp.StatusCode,
		Header:  resp.Header,
		Body:    io.NopCloser(bytes.NewReader(body)),
		Options: responseCheckOptions,
	}
	if err := openapi3filter.ValidateResponse(context.Background(), input); err != nil {
		t.Errorf("%s: response does not conform to docs/openapi.json (operation %s): %v\nbody: %.500s",
			where, route.Operation.OperationID, err, body)
	}
}

// checkNoRoute checks the answer to a path or method the document does
// not have: the router's 404 or 405 problem.
func checkNoRoute(t testing.TB, doc *openapi3.T, where string, resp *http.Response, body []byte) {
	t.Helper()
	if resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("%s: no operation in docs/openapi.json matches this request", where)
		return
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/problem+json" {
		t.Errorf("%s: Content-Type = %q, want application/problem+json", where, resp.Header.Get("Content-Type"))
		return
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Errorf("%s: problem body is not JSON: %v", where, err)
		return
	}
	problem := doc.Components.Schemas["Problem"].Value
	if err := problem.VisitJSON(v, openapi3.EnableJSONSchema2020(), openapi3.VisitAsResponse()); err != nil {
		t.Errorf("%s: body does not match the Problem schema: %v", where, err)
	}
}

func TestOpenAPIDocumentIsServed(t *testing.T) {
	e := newTestEnv(t)
	r := e.request("GET", "/openapi.json", nil)
	wantStatus(t, r, http.StatusOK)
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	if !bytes.Equal(r.body, docs.OpenAPI) {
		t.Error("the body is not docs/openapi.json")
	}
	if cc := r.Header.Get("Cache-Control"); cc != "public, max-age=3600" {
		t.Errorf("Cache-Control = %q, want public, max-age=3600", cc)
	}
	etag := r.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	for _, inm := range []string{etag, "W/" + etag, `"other", ` + etag, "*"} {
		r := e.request("GET", "/openapi.json", nil, "If-None-Match: "+inm)
		wantStatus(t, r, http.StatusNotModified)
		if len(r.body) != 0 {
			t.Errorf("If-None-Match: %s: 304 with a body", inm)
		}
	}
	r = e.request("GET", "/openapi.json", nil, `If-None-Match: "other"`)
	wantStatus(t, r, http.StatusOK)
}
