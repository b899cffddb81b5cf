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

// DemoCallback is GET /demo/callback: it shows the code (or error) the
// authorization endpoint sent the demo app, and how to exchange it.
func (r *Renderer) DemoCallback(publicURL string) gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Header("Cache-Control", "no-store")
		r.page(c, http.StatusOK, "demo", "Demo app", func(b templates.Base) any {
			return templates.DemoData{
				Base: b, Code: c.Query("code"), State: c.Query("state"),
				Error: c.Query("error"), ErrorDescription: c.Query("error_description"),
				TokenURL:    publicURL + "/api/oauth2/token",
				RedirectURI: publicURL + DemoCallbackPath,
				ClientID:    DemoClientID,
			}
		})
	}
}
