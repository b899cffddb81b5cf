package controllers

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"beerlocker/accounts"
	"beerlocker/middleware"
	"beerlocker/models"
)

type userResponse struct {
	ID        string    `json:"id"`
	Username  string    `json:"username"`
	CreatedAt time.Time `json:"created_at"`
}

func toUserResponse(u *models.User) userResponse {
	return userResponse{ID: u.ID, Username: u.Username, CreatedAt: u.CreatedAt}
}

type registerRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

type passwordRequest struct {
	Password string `json:"password"`
}

func (r *passwordRequest) Validate() error { return models.ValidatePassword(r.Password) }

// registerUser handles POST /api/users. The service validates the fields:
// every attempt that gets that far counts against the registration limit,
// valid or not (API.md §8).
func registerUser(acc *accounts.Service, log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		var in registerRequest
		if err := decodeJSON(c, &in); err != nil {
			writeProblem(c, log, err)
			return
		}
		u, err := acc.Register(c.Request.Context(), accounts.Registration{
			Username: in.Username, Password: in.Password, Address: c.ClientIP()})
		if err != nil {
			writeProblem(c, log, err)
			return
		}
		c.Header("Location", "/api/users/me") // the new user's own resource
		c.JSON(http.StatusCreated, toUserResponse(u))
	}
}

func getMe(users models.UserRepository, log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		u, err := users.Get(c.Request.Context(), middleware.GetPrincipal(c).UserID)
		if err != nil {
			writeProblem(c, log, err)
			return
		}
		c.JSON(http.StatusOK, toUserResponse(u))
	}
}

func changePassword(acc *accounts.Service, log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		var in passwordRequest
		if err := decodeValid(c, &in); err != nil {
			writeProblem(c, log, err)
			return
		}
		u, err := acc.ChangePassword(c.Request.Context(), middleware.GetPrincipal(c).UserID, in.Password)
		if err != nil {
			writeProblem(c, log, err)
			return
		}
		c.JSON(http.StatusOK, toUserResponse(u))
	}
}

func deleteMe(acc *accounts.Service, log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := acc.Delete(c.Request.Context(), middleware.GetPrincipal(c).UserID); err != nil {
			writeProblem(c, log, err)
			return
		}
		c.Status(http.StatusNoContent)
	}
}
