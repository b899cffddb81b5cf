package controllers

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"beerlocker/accounts"
	"beerlocker/middleware"
	"beerlocker/models"
	"beerlocker/oauth"
)

// Personal access tokens (API.md §11): a user's own tokens for scripts,
// made, listed and deleted with the password (Basic) only, so that a
// token cannot make more of itself.

type personalTokenResponse struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Token      string     `json:"token,omitempty"` // only in the answer to the creation
	Scopes     []string   `json:"scopes"`
	ExpiresAt  time.Time  `json:"expires_at"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
}

func toPersonalTokenResponse(t *models.PersonalToken) personalTokenResponse {
	out := personalTokenResponse{ID: t.ID, Name: t.Name, Scopes: t.Scopes, ExpiresAt: t.ExpiresAt, CreatedAt: t.CreatedAt}
	if !t.LastUsedAt.IsZero() {
		used := t.LastUsedAt
		out.LastUsedAt = &used
	}
	return out
}

type personalTokenRequest struct {
	Name          *string  `json:"name"`
	Scopes        []string `json:"scopes"`
	ExpiresInDays *int     `json:"expires_in_days"`
}

func createPersonalToken(o *oauth.Server, auth *middleware.Authenticator, log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		var in personalTokenRequest
		if err := decodeJSON(c, &in); err != nil {
			writeProblem(c, log, err)
			return
		}
		var name string
		if in.Name != nil {
			name = *in.Name
		}
		days := models.DefaultPersonalTokenDays
		if in.ExpiresInDays != nil {
			days = *in.ExpiresInDays
		}
		p := middleware.GetPrincipal(c)
		value, t, err := o.CreatePersonalToken(c.Request.Context(), p.UserID, p.PasswordHash, name, in.Scopes, days)
		if errors.Is(err, accounts.ErrPasswordChanged) {
			auth.RejectPassword(c, "The password changed while the token was being made; nothing was made.")
			return
		}
		if err != nil {
			writeProblem(c, log, err)
			return
		}
		out := toPersonalTokenResponse(t)
		out.Token = value // shown only here
		c.Header("Cache-Control", "no-store")
		c.JSON(http.StatusCreated, out)
	}
}

type personalTokenList struct {
	Tokens []personalTokenResponse `json:"tokens"`
}

func listPersonalTokens(tokens models.PersonalTokenRepository, log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		list, err := tokens.List(c.Request.Context(), middleware.GetPrincipal(c).UserID)
		if err != nil {
			writeProblem(c, log, err)
			return
		}
		out := personalTokenList{Tokens: make([]personalTokenResponse, len(list))}
		for i, t := range list {
			out.Tokens[i] = toPersonalTokenResponse(t)
		}
		c.JSON(http.StatusOK, out)
	}
}

func deletePersonalToken(o *oauth.Server, log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := o.RevokePersonalToken(c.Request.Context(), middleware.GetPrincipal(c).UserID, c.Param("id")); err != nil {
			writeProblem(c, log, err)
			return
		}
		c.Status(http.StatusNoContent)
	}
}
