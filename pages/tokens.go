package pages

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"beerlocker/accounts"
	"beerlocker/models"
	"beerlocker/templates"
)

// Personal access tokens on /account (API.md §11): listed with the apps,
// made with the password entered again (a session left open must not be
// enough to mint a long-lived credential), shown once, revoked with a
// button.

// PersonalTokenMaker makes personal access tokens; *oauth.Server is the one.
type PersonalTokenMaker interface {
	CreatePersonalToken(ctx context.Context, userID, passwordHash, name string, scopes []string, days int) (string, *models.PersonalToken, error)
}

// PersonalTokenRevoker revokes a user's personal access token by its id;
// *oauth.Server is the one.
type PersonalTokenRevoker interface {
	RevokePersonalToken(ctx context.Context, userID, id string) error
}

// PasswordChecker checks the password typed again on a form and returns
// the hash it matched; *accounts.Verifier is the one.
type PasswordChecker interface {
	Verify(ctx context.Context, at accounts.PasswordAttempt) (accounts.Verified, error)
}

// personalTokens is the account page's list of the user's tokens.
func personalTokens(ctx context.Context, tokens models.PersonalTokenRepository, userID string) ([]templates.PersonalToken, error) {
	list, err := tokens.List(ctx, userID)
	if err != nil {
		return nil, err
	}
	out := make([]templates.PersonalToken, len(list))
	for i, t := range list {
		out[i] = templates.PersonalToken{ID: t.ID, Name: t.Name, Scopes: describeScopes(t.Scopes),
			CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt, LastUsed: t.LastUsedAt}
	}
	return out, nil
}

// CreatePersonalToken handles POST /account/tokens: name, scope (one
// field each), days and the password; the new token's value is shown on
// the page it answers with, and nowhere else, ever.
func (r *Renderer) CreatePersonalToken(maker PersonalTokenMaker, passwords PasswordChecker, consents models.ConsentRepository,
	clients models.ClientRepository, tokens models.PersonalTokenRepository) gin.HandlerFunc {
	return func(c *gin.Context) {
		if !r.ReadForm(c) || !r.CheckCSRF(c) {
			return
		}
		u := r.SignedInUser(c, "/account")
		if u == nil {
			return
		}
		form := c.Request.PostForm
		ctx := c.Request.Context()
		show := func(status int, created *templates.NewPersonalToken, problem string) {
			data, err := r.accountData(ctx, consents, clients, tokens, u.ID, created != nil)
			if err != nil {
				r.Fail(c, err)
				return
			}
			data.NewToken, data.TokenProblem = created, problem
			if created == nil {
				data.TokenName = form.Get("name") // kept for another try, not after a success
			}
			c.Header("Cache-Control", "no-store")
			r.page(c, status, "account", "Your account", func(b templates.Base) any {
				data.Base = b
				return data
			})
		}
		checked, err := passwords.Verify(ctx, accounts.PasswordAttempt{Username: u.Username, Password: form.Get("password"),
			Address: c.ClientIP(), Via: "account", Fresh: true})
		if errors.Is(err, models.ErrNotFound) {
			show(http.StatusUnauthorized, nil, "The password is wrong.")
			return
		}
		if err != nil {
			r.formFail(c, err, func(status int, message string) { show(status, nil, message) })
			return
		}
		days, err := strconv.Atoi(form.Get("days"))
		if err != nil {
			days = 0 // not a number: as out of range
		}
		value, t, err := maker.CreatePersonalToken(ctx, u.ID, checked.PasswordHash, form.Get("name"), form["scope"], days)
		var invalid *models.ValidationError
		switch {
		case errors.Is(err, accounts.ErrPasswordChanged):
			show(http.StatusUnauthorized, nil, "Your password changed meanwhile; nothing was made.")
			return
		case errors.As(err, &invalid):
			show(http.StatusBadRequest, nil, fieldsProblem(invalid))
			return
		case errors.Is(err, models.ErrConflict):
			show(http.StatusConflict, nil, "You have the most personal access tokens one account may have; revoke one first.")
			return
		case err != nil:
			r.Fail(c, err)
			return
		}
		show(http.StatusOK, &templates.NewPersonalToken{Name: t.Name, Value: value, ExpiresAt: t.ExpiresAt}, "")
	}
}

// fieldsProblem says what is wrong with the form's fields, in words.
func fieldsProblem(v *models.ValidationError) string {
	names := map[string]string{"name": "The name", "scopes": "The scopes", "expires_in_days": "The lifetime in days"}
	msg := ""
	for _, f := range v.Fields {
		n := names[f.Field]
		if n == "" {
			n = f.Field
		}
		msg += n + " " + f.Message + ". "
	}
	return msg
}

// RevokePersonalToken handles POST /account/tokens/:id/revoke. Another
// user's id, or one already gone, changes nothing.
func (r *Renderer) RevokePersonalToken(tokens PersonalTokenRevoker) gin.HandlerFunc {
	return func(c *gin.Context) {
		if !r.ReadForm(c) || !r.CheckCSRF(c) {
			return
		}
		u := r.SignedInUser(c, "/account")
		if u == nil {
			return
		}
		if err := tokens.RevokePersonalToken(c.Request.Context(), u.ID, c.Param("id")); err != nil && !errors.Is(err, models.ErrNotFound) {
			r.Fail(c, err)
			return
		}
		c.Redirect(http.StatusSeeOther, "/account")
	}
}
