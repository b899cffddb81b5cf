package oauth

import (
	"beerlocker/httperr"
	"beerlocker/models"
	"beerlocker/pages"
	"errors"
	"mime"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"
)

// readForm parses an application/x-www-form-urlencoded body. Parameters
// in the URL query are ignored: secrets do not belong in URLs. Each
// parameter may appear once (RFC 6749 §3.2), but resource (RFC 8707).
func readForm(c *gin.Context) (url.Values, error) {
	if c.Request.Method != http.MethodPost {
		return nil, errInvalidRequest("Use POST.")
	}
	mt, _, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, errInvalidRequest("The body must be application/x-www-form-urlencoded.")
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, pages.MaxFormBytes)
	if err := c.Request.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errorOf(httperr.Of(err)) // 413
		}
		return nil, errInvalidRequest("The body is not a valid form.")
	}
	form := c.Request.PostForm
	for k, v := range form {
		if len(v) > 1 && !repeatable(k) {
			return nil, errInvalidRequest("The parameter " + k + " appears more than once.")
		}
	}
	return form, nil
}

// readClientForm reads the form of an endpoint that authenticates clients
// (token, revocation, introspection, device authorization) and the client
// credentials it presents, by header or in the form.
func readClientForm(c *gin.Context) (url.Values, clientCredentials, error) {
	form, err := readForm(c)
	if err != nil {
		return nil, clientCredentials{}, err
	}
	cred, oerr := readClientCredentials(c.GetHeader("Authorization"), form)
	if oerr != nil {
		return nil, clientCredentials{}, oerr
	}
	return form, cred, nil
}

// authenticatedForm reads the form and authenticates the client, for the
// endpoints that check the client before anything else (revocation,
// introspection, device authorization; the token endpoint also checks a
// user's password and so orders its checks itself).
func (s *Server) authenticatedForm(c *gin.Context) (url.Values, clientCredentials, *models.Client, error) {
	form, cred, err := readClientForm(c)
	if err != nil {
		return nil, cred, nil, err
	}
	client, err := s.authenticateClient(c.Request.Context(), c.ClientIP(), cred)
	if err != nil {
		return nil, cred, nil, err
	}
	return form, cred, client, nil
}

// jsonEndpoint answers f's result as JSON, never cached, or its error in
// the RFC 6749 §5.2 shape.
func jsonEndpoint[T any](s *Server, f func(*gin.Context) (T, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		resp, err := f(c)
		if err != nil {
			s.writeError(c, err)
			return
		}
		noStore(c)
		c.JSON(http.StatusOK, resp)
	}
}
