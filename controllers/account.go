package controllers

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"beerlocker/middleware"
	"beerlocker/models"
	"beerlocker/oauth"
	"beerlocker/templates"
)

// loginFor is the login page that returns to path afterwards.
func loginFor(path string) string { return "/login?return_to=" + url.QueryEscape(path) }

// accountPage lists the apps the signed-in user has allowed.
func accountPage(d Deps) gin.HandlerFunc {
	return func(c *gin.Context) {
		u, err := d.sessionUser(c)
		if err != nil {
			d.pageFail(c, err)
			return
		}
		if u == nil {
			c.Redirect(http.StatusFound, loginFor("/account"))
			return
		}
		apps, err := d.connectedApps(c, u.ID)
		if err != nil {
			d.pageFail(c, err)
			return
		}
		base, err := d.pageBase(c, "Your account")
		if err != nil {
			d.pageFail(c, err)
			return
		}
		d.renderPage(c, http.StatusOK, "account", templates.AccountData{Base: base, Apps: apps})
	}
}

func (d Deps) connectedApps(c *gin.Context, userID string) ([]templates.App, error) {
	consents, err := d.Store.Consents.List(c.Request.Context(), userID)
	if err != nil {
		return nil, err
	}
	apps := make([]templates.App, 0, len(consents))
	for _, cs := range consents {
		client, err := d.Store.Clients.Get(c.Request.Context(), cs.ClientID)
		if errors.Is(err, models.ErrNotFound) {
			continue // deleted since; its consents go with it
		}
		if err != nil {
			return nil, err
		}
		apps = append(apps, templates.App{ClientID: client.ID, Name: client.Name,
			Scopes: oauth.DescribeScopes(cs.Scopes), Since: cs.CreatedAt})
	}
	return apps, nil
}

// revokeApp deletes the user's consent for the client together with every
// code and token the client holds for the user (API.md §7).
func revokeApp(d Deps) gin.HandlerFunc {
	return func(c *gin.Context) {
		if !d.readForm(c) || !d.checkCSRF(c) {
			return
		}
		u, err := d.sessionUser(c)
		if err != nil {
			d.pageFail(c, err)
			return
		}
		if u == nil {
			c.Redirect(http.StatusSeeOther, loginFor("/account"))
			return
		}
		// Revoking what is already gone (a second click) is not an error.
		err = d.Store.Consents.Delete(c.Request.Context(), u.ID, c.Param("client_id"))
		if err != nil && !errors.Is(err, models.ErrNotFound) {
			d.pageFail(c, err)
			return
		}
		if err == nil {
			middleware.LogSecurity(c.Request.Context(), d.Log, middleware.EventAppRevoked,
				slog.String("user_id", u.ID), slog.String("client_id", c.Param("client_id")))
		}
		c.Redirect(http.StatusSeeOther, "/account")
	}
}
