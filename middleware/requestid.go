package middleware

import (
	"encoding/hex"
	"math/rand/v2"
	"net/textproto"

	"github.com/gin-gonic/gin"

	"beerlocker/httperr"
)

// RequestIDHeader carries the request id in both directions.
const RequestIDHeader = "X-Request-ID"

// requestIDKey is RequestIDHeader as net/http keys its header maps, so
// that every request indexes them directly instead of canonicalizing the
// name again (Header.Get and Set do, and it shows in the W2 profile).
var requestIDKey = textproto.CanonicalMIMEHeaderKey(RequestIDHeader)

// RequestID gives every request an id, reusing the caller's X-Request-ID
// when it is short and plain, and echoes it in the response.
func RequestID() gin.HandlerFunc {
	return func(c *gin.Context) {
		var id string
		if v := c.Request.Header[requestIDKey]; len(v) > 0 {
			id = v[0]
		}
		if !plainID(id) {
			id = newRequestID()
		}
		c.Request = c.Request.WithContext(httperr.WithRequestID(c.Request.Context(), id))
		c.Writer.Header()[requestIDKey] = []string{id}
		c.Next()
	}
}

// newRequestID returns 24 random hex digits. An id names a request in
// the logs and is no secret, so it comes from the runtime's generator
// (ChaCha8, seeded from the system), not a crypto/rand call per request.
func newRequestID() string {
	var b [16]byte
	x, y := rand.Uint64(), rand.Uint64()
	for i := range 8 {
		b[i], b[8+i] = byte(x>>(8*i)), byte(y>>(8*i))
	}
	var out [24]byte
	hex.Encode(out[:], b[:12])
	return string(out[:])
}

// GetRequestID returns the id RequestID gave this request.
func GetRequestID(c *gin.Context) string { return httperr.RequestID(c.Request.Context()) }

// plainID accepts ids that are safe to echo and to log: 1–64 characters of
// letters, digits, '-' and '_'.
func plainID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
