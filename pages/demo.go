package pages

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"beerlocker/templates"
)

// The demo app that `beerlocker seed` registers: its client id and the
// page of this service that plays its redirect URI.
const (
	DemoClientID     = "demo-client"
	DemoCallbackPath = "/demo/callback"
)

// demoErrors are the fixed texts the demo page shows for the error codes
// it knows: those of RFC 6749 §4.1.2.1, and the two this server sends for
// prompt=none (OpenID Connect Core §3.1.2.6). The page is on the service's
// origin and anyone can link to it with any query, so it never shows the
// query's error_description, nor an error code it does not know: that
// would let a stranger's words pass for the service's (content spoofing).
var demoErrors = map[string]string{
	"invalid_request":           "The app's request was malformed.",
	"unauthorized_client":       "The app may not use this kind of request.",
	"access_denied":             "You denied the app access.",
	"unsupported_response_type": "The app asked for a kind of answer this server does not give.",
	"invalid_scope":             "The app asked for access that does not exist.",
	"server_error":              "Something went wrong on the server.",
	"temporarily_unavailable":   "The server is busy or down; try again later.",
	"login_required":            "You are not signed in, and the app asked not to show any page.",
	"consent_required":          "You have not approved the app yet, and it asked not to show any page.",
}

// DemoCallback is GET /demo/callback: it shows the code (or error) the
// authorization server sent the demo app, and how to exchange it.
func (r *Renderer) DemoCallback(publicURL string) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Header("Cache-Control", "no-store")
		data := templates.DemoData{
			TokenURL:    publicURL + "/api/oauth2/token",
			RedirectURI: publicURL + DemoCallbackPath,
			ClientID:    DemoClientID,
		}
		if e := c.Query("error"); e != "" {
			data.Error = "unknown"
			if text, ok := demoErrors[e]; ok {
				data.Error, data.ErrorText = e, text
			}
		} else if code := c.Query("code"); valueLike(code, 100) {
			data.Code = code
			if state := c.Query("state"); valueLike(state, 100) {
				data.State = state
			}
		}
		r.page(c, http.StatusOK, "demo", "Demo app", func(b templates.Base) any {
			data.Base = b
			return data
		})
	}
}

// valueLike reports whether s looks like a code or a state, at most max
// characters of the URL-safe alphabet (RFC 3986 unreserved), rather than
// words someone wants shown.
func valueLike(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~') {
			return false
		}
	}
	return true
}
