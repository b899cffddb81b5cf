// Package docs holds the OpenAPI 3.1 description of the Beer Locker HTTP
// API (docs/openapi.json): every route of the contract in API.md, with its
// request bodies, responses, headers and security requirements. The server
// serves it at GET /openapi.json, and the tests check that it lists exactly
// the routes the router registers and that every response the handler tests
// see conforms to it.
package docs

import _ "embed"

// OpenAPI is the OpenAPI 3.1 document, as JSON.
//
//go:embed openapi.json
var OpenAPI []byte
