package controllers

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"beerlocker/middleware"
	"beerlocker/models"
	"beerlocker/problem"
)

func healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// readyz answers 503 while the database does not answer within 2 s.
func readyz(db models.Database, log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
		defer cancel()
		if err := db.Ping(ctx); err != nil {
			log.Warn("readiness check failed", "request_id", middleware.GetRequestID(c), "err", err)
			problem.Abort(c, problem.Problem{Status: http.StatusServiceUnavailable,
				Title: "Not ready", Detail: "The database does not answer."})
			return
		}
		c.JSON(http.StatusOK, gin.H{"status": "ok"})
	}
}
