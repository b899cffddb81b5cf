package controllers

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"beerlocker/middleware"
)

func healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// readyz answers 503 while the database does not answer within 2 s.
func readyz(d Deps) gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
		defer cancel()
		if err := d.Store.Ping(ctx); err != nil {
			d.Log.Warn("readiness check failed", "request_id", middleware.GetRequestID(c), "err", err)
			middleware.AbortWithProblem(c, middleware.Problem{Status: http.StatusServiceUnavailable,
				Title: "Not ready", Detail: "The database does not answer."})
			return
		}
		c.JSON(http.StatusOK, gin.H{"status": "ok"})
	}
}
