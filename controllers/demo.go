package controllers

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"beerlocker/templates"
)

// demoClientID is the client `beerlocker seed` creates.
const demoClientID = "demo-client"

// demoCallback plays the demo app's redirect URI: it shows the code (or
// error) the authorization endpoint sent, and how to exchange it.
func demoCallback(d Deps) gin.HandlerFunc {
	return func(c *gin.Context) {
		base, err := d.pageBase(c, "Demo app")
		if err != nil {
			d.pageFail(c, err)
			return
		}
		c.Header("Cache-Control", "no-store")
		d.renderPage(c, http.StatusOK, "demo", templates.DemoData{
			Base: base, Code: c.Query("code"), State: c.Query("state"),
			Error: c.Query("error"), ErrorDescription: c.Query("error_description"),
			TokenURL:    d.Config.PublicURL + "/api/oauth2/token",
			RedirectURI: d.Config.PublicURL + "/demo/callback",
			ClientID:    demoClientID,
		})
	}
}
