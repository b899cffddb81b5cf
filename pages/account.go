package pages

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/gin-gonic/gin"

	"beerlocker/models"
	"beerlocker/templates"
)

// AppRevoker ends what one app holds for one user; *grants.Ender is the one.
type AppRevoker interface {
	EndAppGrant(ctx context.Context, userID, clientID string) error
}

// Account is GET /account: the apps the signed-in user has allowed and
// their personal access tokens.
func (r *Renderer) Account(consents models.ConsentRepository, clients models.ClientRepository, tokens models.PersonalTokenRepository) gin.HandlerFunc {
	return func(c *gin.Context) {
		u := r.SignedInUser(c, "/account")
		if u == nil {
			return
		}
		data, err := r.accountData(c.Request.Context(), consents, clients, tokens, u.ID, false)
		if err != nil {
			r.Fail(c, err)
			return
		}
		r.page(c, http.StatusOK, "account", "Your account", func(b templates.Base) any {
			data.Base = b
			return data
		})
	}
}

// accountData gathers the lists of /account. Without the apps there is no
// page. Without the personal access tokens there is, saying they cannot be
// shown: with REDIS_URL they are in Redis, and the rest needs only the
// database, so the page stays up while Redis is down; and a token just
// made (justMade) must be shown whatever the list does, since it cannot
// be shown again.
func (r *Renderer) accountData(ctx context.Context, consents models.ConsentRepository, clients models.ClientRepository,
	tokens models.PersonalTokenRepository, userID string, justMade bool) (templates.AccountData, error) {
	apps, err := connectedApps(ctx, consents, clients, userID, r.now())
	if err != nil {
		return templates.AccountData{}, err
	}
	list, err := personalTokens(ctx, tokens, userID)
	if err != nil && !justMade && !errors.Is(err, models.ErrUnavailable) {
		return templates.AccountData{}, err
	}
	return templates.AccountData{Apps: apps, Tokens: list, TokenScopes: describeScopes(models.PersonalTokenScopes()),
		TokensUnavailable: err != nil}, nil
}

// connectedApps lists the apps the user allowed, oldest first, with
// their scopes, since, until (for a limited grant) and when they last used
// their access; a grant past its end is gone (API.md §11). The
// registrations of one self-registered app (same name, same host: an
// agent registers anew each time it asks) are one entry, with the union
// of their scopes; revoking it revokes them all (see RevokeApp).
func connectedApps(ctx context.Context, consents models.ConsentRepository, clients models.ClientRepository, userID string, now time.Time) ([]templates.App, error) {
	groups, err := appGroups(ctx, consents, clients, userID)
	if err != nil {
		return nil, err
	}
	apps := make([]templates.App, 0, len(groups))
	for _, g := range groups {
		g.members = slices.DeleteFunc(g.members, func(m appGrant) bool { return !m.consent.Live(now) })
		if len(g.members) == 0 {
			continue
		}
		first := g.members[0]
		app := templates.App{ClientID: first.client.ID, Name: first.client.Name, Since: first.consent.CreatedAt,
			SelfRegistered: first.client.SelfRegistered(), Connections: len(g.members)}
		var scopes []string
		limited := true
		for _, m := range g.members {
			for _, sc := range m.consent.Scopes {
				if !slices.Contains(scopes, sc) {
					scopes = append(scopes, sc)
				}
			}
			// The group lasts as long as its longest grant; one without
			// an end lasts until revoked.
			limited = limited && !m.consent.ExpiresAt.IsZero()
			if limited && m.consent.ExpiresAt.After(app.Until) {
				app.Until = m.consent.ExpiresAt
			}
			if m.consent.LastUsedAt.After(app.LastUsed) {
				app.LastUsed = m.consent.LastUsedAt
			}
		}
		if !limited {
			app.Until = time.Time{}
		}
		app.Scopes = describeScopes(scopes)
		if app.SelfRegistered && len(first.client.RedirectURIs) > 0 {
			app.Host = hostOf(first.client.RedirectURIs[0])
		}
		apps = append(apps, app)
	}
	return apps, nil
}

// appGroup is what the account page shows as one app: one owned client,
// or every registration of one self-registered app.
type appGroup struct {
	key     string
	members []appGrant
}

type appGrant struct {
	client  *models.Client
	consent *models.Consent
}

// groupKey is what makes two clients one app to the user: their id, or
// for apps that registered themselves, which no one can tell apart but by
// what they say, their name and the host they send the user to.
func groupKey(c *models.Client) string {
	if !c.SelfRegistered() || len(c.RedirectURIs) == 0 {
		return "id\x00" + c.ID
	}
	return "self\x00" + c.Name + "\x00" + hostOf(c.RedirectURIs[0])
}

// appGroups reads the user's consents and their clients, grouped, in the
// order of each group's oldest consent.
func appGroups(ctx context.Context, consents models.ConsentRepository, clients models.ClientRepository, userID string) ([]*appGroup, error) {
	list, err := consents.List(ctx, userID)
	if err != nil {
		return nil, err
	}
	var groups []*appGroup
	byKey := map[string]*appGroup{}
	for _, cs := range list {
		client, err := clients.Get(ctx, cs.ClientID)
		if errors.Is(err, models.ErrNotFound) {
			continue // deleted since; its consents go with it
		}
		if err != nil {
			return nil, err
		}
		k := groupKey(client)
		g := byKey[k]
		if g == nil {
			g = &appGroup{key: k}
			byKey[k] = g
			groups = append(groups, g)
		}
		g.members = append(g.members, appGrant{client: client, consent: cs})
	}
	return groups, nil
}

// RevokeApp is POST /account/apps/{client_id}/revoke: it ends the user's
// grant to the app, consent, codes and tokens (API.md §7), and to every
// other registration the account page shows as the same app.
func (r *Renderer) RevokeApp(apps AppRevoker, consents models.ConsentRepository, clients models.ClientRepository) gin.HandlerFunc {
	return func(c *gin.Context) {
		if !r.ReadForm(c) || !r.CheckCSRF(c) {
			return
		}
		u := r.SignedInUser(c, "/account")
		if u == nil {
			return
		}
		ctx := c.Request.Context()
		ids := []string{c.Param("client_id")}
		groups, err := appGroups(ctx, consents, clients, u.ID)
		if err != nil {
			r.Fail(c, err)
			return
		}
		for _, g := range groups {
			if slices.ContainsFunc(g.members, func(m appGrant) bool { return m.client.ID == ids[0] }) {
				ids = ids[:0]
				for _, m := range g.members {
					ids = append(ids, m.client.ID)
				}
			}
		}
		for _, id := range ids {
			if err := apps.EndAppGrant(ctx, u.ID, id); err != nil {
				r.Fail(c, err)
				return
			}
		}
		c.Redirect(http.StatusSeeOther, "/account")
	}
}
