package middleware

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/rs/cors"
)

// corsPolicy is the one cross-origin policy (API.md §10): the public
// endpoints that apps and agents running in a browser call (metadata, the
// JWK Set, token, revocation, registration) answer every origin, preflight included,
// but never with credentials: no cookie and no session is ever read
// cross-origin, so a foreign page gains nothing it could not get with
// curl. WWW-Authenticate is exposed so that a browser client can read a
// challenge's resource_metadata.
var corsPolicy = cors.New(cors.Options{
	AllowedOrigins:   []string{"*"},
	AllowedMethods:   []string{http.MethodGet, http.MethodPost, http.MethodDelete},
	AllowedHeaders:   []string{"Authorization", "Content-Type", "Mcp-Session-Id", "Mcp-Protocol-Version", "Last-Event-Id"},
	ExposedHeaders:   []string{"WWW-Authenticate", "Mcp-Session-Id"},
	AllowCredentials: false,
	MaxAge:           600,
})

// CORS applies the cross-origin policy: it adds its headers to a request
// from a browser, and answers a preflight (OPTIONS with
// Access-Control-Request-Method) itself, 204, before anything else runs.
func CORS() gin.HandlerFunc {
	return func(c *gin.Context) {
		corsPolicy.HandlerFunc(c.Writer, c.Request)
		if c.Request.Method == http.MethodOptions && c.GetHeader("Access-Control-Request-Method") != "" {
			c.Abort()
			return
		}
		c.Next()
	}
}
