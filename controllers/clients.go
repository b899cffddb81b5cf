package controllers

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"beerlocker/grants"
	"beerlocker/middleware"
	"beerlocker/models"
	"beerlocker/oauth"
	"beerlocker/security"
)

type clientResponse struct {
	ClientID               string    `json:"client_id"`
	ClientSecret           string    `json:"client_secret,omitempty"`
	Name                   string    `json:"name"`
	RedirectURIs           []string  `json:"redirect_uris"`
	PostLogoutRedirectURIs []string  `json:"post_logout_redirect_uris"`
	GrantTypes             []string  `json:"grant_types"`
	Public                 bool      `json:"public"`
	IDTokenAlg             string    `json:"id_token_signed_response_alg"`
	CreatedAt              time.Time `json:"created_at"`
}

func toClientResponse(cl *models.Client) clientResponse {
	logout := cl.PostLogoutRedirectURIs
	if logout == nil {
		logout = []string{}
	}
	return clientResponse{ClientID: cl.ID, Name: cl.Name, RedirectURIs: cl.RedirectURIs, PostLogoutRedirectURIs: logout,
		GrantTypes: cl.GrantTypes, Public: cl.Public, IDTokenAlg: cl.IDTokenAlg(), CreatedAt: cl.CreatedAt}
}

type createClientRequest struct {
	Name                   string   `json:"name"`
	RedirectURIs           []string `json:"redirect_uris"`
	PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris"`
	Public                 bool     `json:"public"`
	GrantTypes             []string `json:"grant_types"`
	IDTokenAlg             string   `json:"id_token_signed_response_alg"`
}

// client builds the client to register; Validate checks it.
func (r *createClientRequest) client() *models.Client {
	grants := r.GrantTypes
	if grants == nil {
		grants = models.DefaultGrantTypes()
	}
	return &models.Client{Name: r.Name, RedirectURIs: r.RedirectURIs,
		PostLogoutRedirectURIs: r.PostLogoutRedirectURIs, Public: r.Public, GrantTypes: grants, IDTokenSignedResponseAlg: r.IDTokenAlg}
}

func (r *createClientRequest) Validate() error { return models.ValidateClient(r.client()) }

type updateClientRequest struct {
	Name                   *string  `json:"name"`
	RedirectURIs           []string `json:"redirect_uris"`
	PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris"`
	IDTokenAlg             *string  `json:"id_token_signed_response_alg"`
}

func createClient(clients models.ClientRepository, log *slog.Logger, now clock) gin.HandlerFunc {
	return func(c *gin.Context) {
		var in createClientRequest
		if err := decodeValid(c, &in); err != nil {
			writeProblem(c, log, err)
			return
		}
		now := now.storeNow()
		cl := in.client()
		cl.ID, cl.OwnerID, cl.CreatedAt, cl.UpdatedAt = oauth.NewClientID(), middleware.GetPrincipal(c).UserID, now, now
		var secret string
		if !cl.Public {
			secret, cl.SecretHash = oauth.NewClientSecret()
		}
		if err := clients.Create(c.Request.Context(), cl); err != nil {
			writeProblem(c, log, err)
			return
		}
		out := toClientResponse(cl)
		out.ClientSecret = secret // shown only here and on rotation
		c.Header("Location", "/api/clients/"+cl.ID)
		c.Header("Cache-Control", "no-store")
		c.JSON(http.StatusCreated, out)
	}
}

func listClients(clients models.ClientRepository, log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		clients, err := clients.List(c.Request.Context(), middleware.GetPrincipal(c).UserID)
		if err != nil {
			writeProblem(c, log, err)
			return
		}
		out := make([]clientResponse, len(clients))
		for i, cl := range clients {
			out[i] = toClientResponse(cl)
		}
		c.JSON(http.StatusOK, gin.H{"clients": out})
	}
}

func getClient(clients models.ClientRepository, log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		cl, err := clients.GetOwned(c.Request.Context(), middleware.GetPrincipal(c).UserID, c.Param("client_id"))
		if err != nil {
			writeProblem(c, log, err)
			return
		}
		c.JSON(http.StatusOK, toClientResponse(cl))
	}
}

func updateClient(clients models.ClientRepository, log *slog.Logger, now clock) gin.HandlerFunc {
	return func(c *gin.Context) {
		var in updateClientRequest
		if err := decodeJSON(c, &in); err != nil {
			writeProblem(c, log, err)
			return
		}
		ctx, owner, id := c.Request.Context(), middleware.GetPrincipal(c).UserID, c.Param("client_id")
		cl, err := clients.GetOwned(ctx, owner, id)
		if err != nil {
			writeProblem(c, log, err)
			return
		}
		u := models.ClientUpdate{Name: in.Name, RedirectURIs: in.RedirectURIs, PostLogoutRedirectURIs: in.PostLogoutRedirectURIs,
			IDTokenSignedResponseAlg: in.IDTokenAlg}
		if err := models.ValidateClientUpdate(u, cl.Public); err != nil {
			writeProblem(c, log, err)
			return
		}
		cl, err = clients.Update(ctx, owner, id, u, now.storeNow())
		if err != nil {
			writeProblem(c, log, err)
			return
		}
		c.JSON(http.StatusOK, toClientResponse(cl))
	}
}

func deleteClient(ender *grants.Ender, log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := ender.DeleteClient(c.Request.Context(), middleware.GetPrincipal(c).UserID, c.Param("client_id")); err != nil {
			writeProblem(c, log, err)
			return
		}
		c.Status(http.StatusNoContent)
	}
}

// rotateClientSecret issues a new secret; the old one stops working at once.
func rotateClientSecret(clients models.ClientRepository, log *slog.Logger, now clock) gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx, owner, id := c.Request.Context(), middleware.GetPrincipal(c).UserID, c.Param("client_id")
		cl, err := clients.GetOwned(ctx, owner, id)
		if err != nil {
			writeProblem(c, log, err)
			return
		}
		if cl.Public {
			writeProblem(c, log, badRequest("A public client has no secret to rotate."))
			return
		}
		secret, hash := oauth.NewClientSecret()
		if _, err := clients.Update(ctx, owner, id, models.ClientUpdate{SecretHash: &hash}, now.storeNow()); err != nil {
			writeProblem(c, log, err)
			return
		}
		security.Log(ctx, log, security.EventSecretRotated,
			slog.String("client_id", cl.ID), slog.String("owner_id", owner))
		c.Header("Cache-Control", "no-store")
		c.JSON(http.StatusOK, gin.H{"client_id": cl.ID, "client_secret": secret})
	}
}
