package middleware

import "github.com/gin-gonic/gin"

// SecurityHeaders forbids framing (so the consent dialog cannot be
// clickjacked), MIME sniffing and referrers (which would carry
// authorization codes to other sites).
func SecurityHeaders() gin.HandlerFunc {
	return func(c *gin.Context) {
		h := c.Writer.Header()
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		c.Next()
	}
}
