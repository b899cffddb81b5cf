package middleware

import "github.com/gin-gonic/gin"

// hstsValue keeps browsers on https for two years, subdomains included
// (the two-year max-age is what the HSTS preload list asks for).
const hstsValue = "max-age=63072000; includeSubDomains"

// SecurityHeaders forbids framing (so the consent dialog cannot be
// clickjacked), MIME sniffing and referrers (which would carry
// authorization codes to other sites). When https is set, because
// PUBLIC_URL is https, it also sends Strict-Transport-Security
// (RFC 6797), so a browser never again sends a session cookie or a
// password over plain http; over http the header would be ignored, and
// it would pin a development host to https.
//
// The headers are assigned by their canonical names, and every response
// shares each value slice: Header.Set would canonicalize the name and
// allocate a slice on every request, and nothing appends to these.
func SecurityHeaders(https bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		h := c.Writer.Header()
		h["X-Frame-Options"] = frameOptions
		h["Content-Security-Policy"] = frameAncestors
		h["X-Content-Type-Options"] = noSniff
		h["Referrer-Policy"] = noReferrer
		if https {
			h["Strict-Transport-Security"] = hsts
		}
		c.Next()
	}
}

var (
	frameOptions   = []string{"DENY"}
	frameAncestors = []string{"frame-ancestors 'none'"}
	noSniff        = []string{"nosniff"}
	noReferrer     = []string{"no-referrer"}
	hsts           = []string{hstsValue}
)
