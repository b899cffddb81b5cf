package controllers

import (
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"beerlocker/keys"
	"beerlocker/problem"
)

// jwks serves the JWK Set of the signing keys (API.md §9 "Keys"). It may
// be cached for a minute: a new key is published ActivationDelay before it
// signs, far longer than that.
func jwks(k *keys.Manager, log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		body, err := k.JWKS(c.Request.Context())
		if err != nil {
			problem.Error(c, log, err, "")
			return
		}
		c.Header("Cache-Control", "public, max-age=60")
		c.Data(http.StatusOK, "application/json", body)
	}
}
