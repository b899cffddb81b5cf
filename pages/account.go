package pages

import (
	"context"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"beerlocker/models"
	"beerlocker/templates"
)

// AppRevoker ends what one app holds for one user; *grants.Ender is the one.
type AppRevoker interface {
	EndAppGrant(ctx context.Context, userID, clientID string) error
}

// Account is GET /account: the apps the signed-in user has allowed.
func (r *Renderer) Account(consents models.ConsentRepository, clients models.ClientRepository) gin.HandlerFunc {
	return func(c *gin.Context) {
		u := r.SignedInUser(c, "/account")
		if u == nil {
			return
		}
		apps, err := connectedApps(c.Request.Context(), consents, clients, u.ID)
		if err != nil {
			r.Fail(c, err)
			return
		}
		r.page(c, http.StatusOK, "account", "Your account", func(b templates.Base) any {
			return templates.AccountData{Base: b, Apps: apps}
		})
	}
}

func connectedApps(ctx context.Context, consents models.ConsentRepository, clients models.ClientRepository, userID string) ([]templates.App, error) {
	list, err := consents.List(ctx, userID)
	if err != nil {
		return nil, err
	}
	apps := make([]templates.App, 0, len(list))
	for _, cs := range list {
		client, err := clients.Get(ctx, cs.ClientID)
		if errors.Is(err, models.ErrNotFound) {
			continue // deleted since; its consents go with it
		}
		if err != nil {
			return nil, err
		}
		apps = append(apps, templates.App{ClientID: client.ID, Name: client.Name,
			Scopes: describeScopes(cs.Scopes), Since: cs.CreatedAt})
	}
	return apps, nil
}

// RevokeApp is POST /account/apps/{client_id}/revoke: it ends the user's
// grant to the app, consent, codes and tokens (API.md §7).
func (r *Renderer) RevokeApp(apps AppRevoker) gin.HandlerFunc {
	return func(c *gin.Context) {
		if !r.ReadForm(c) || !r.CheckCSRF(c) {
			return
		}
		u := r.SignedInUser(c, "/account")
		if u == nil {
			return
		}
		if err := apps.EndAppGrant(c.Request.Context(), u.ID, c.Param("client_id")); err != nil {
			r.Fail(c, err)
			return
		}
		c.Redirect(http.StatusSeeOther, "/account")
	}
}
