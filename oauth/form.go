package oauth

import (
	"errors"
	"mime"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"
)

// maxFormBytes bounds the body of the token, revocation and introspection
// endpoints: their forms are a few hundred bytes.
const maxFormBytes = 64 << 10

// readForm parses an application/x-www-form-urlencoded body. Parameters
// in the URL query are ignored: secrets do not belong in URLs. Each
// parameter may appear once (RFC 6749 §3.2).
func readForm(c *gin.Context) (url.Values, error) {
	if c.Request.Method != http.MethodPost {
		return nil, errInvalidRequest("Use POST.")
	}
	mt, _, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, errInvalidRequest("The body must be application/x-www-form-urlencoded.")
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxFormBytes)
	if err := c.Request.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, &Error{Code: "invalid_request", Description: "The body is too large.", Status: http.StatusRequestEntityTooLarge}
		}
		return nil, errInvalidRequest("The body is not a valid form.")
	}
	form := c.Request.PostForm
	for k, v := range form {
		if len(v) > 1 {
			return nil, errInvalidRequest("The parameter " + k + " appears more than once.")
		}
	}
	return form, nil
}
