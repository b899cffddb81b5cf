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
func SecurityHeaders(https bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		h := c.Writer.Header()
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		if https {
			h.Set("Strict-Transport-Security", hstsValue)
		}
		c.Next()
	}
}
