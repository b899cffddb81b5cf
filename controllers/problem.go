package controllers

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"beerlocker/middleware"
	"beerlocker/models"
)

// requestError is a problem with the request itself, found before any
// repository call: bad JSON, a wrong content type, a body too large.
type requestError struct {
	status int
	title  string
	detail string
	fields []models.FieldError
}

func (e *requestError) Error() string { return e.detail }

func badRequest(detail string, fields ...models.FieldError) *requestError {
	return &requestError{status: http.StatusBadRequest, title: "Bad request", detail: detail, fields: fields}
}

// writeProblem is the one place errors become HTTP statuses on API routes.
// Anything it does not recognise is logged and answered with a bare 500.
func writeProblem(c *gin.Context, log logger, err error) {
	var re *requestError
	var ve *models.ValidationError
	switch {
	case errors.As(err, &re):
		middleware.AbortWithProblem(c, middleware.Problem{Status: re.status, Title: re.title,
			Detail: re.detail, Errors: problemFields(re.fields)})
	case errors.As(err, &ve):
		middleware.AbortWithProblem(c, middleware.Problem{Status: http.StatusBadRequest, Title: "Validation failed",
			Detail: "One or more fields are invalid.", Errors: problemFields(ve.Fields)})
	case errors.Is(err, models.ErrNotFound):
		middleware.AbortWithProblem(c, middleware.Problem{Status: http.StatusNotFound, Title: "Not found",
			Detail: "No such object."})
	case errors.Is(err, models.ErrConflict):
		middleware.AbortWithProblem(c, middleware.Problem{Status: http.StatusConflict, Title: "Conflict",
			Detail: conflictDetail(c)})
	case errors.Is(err, models.ErrUnavailable):
		log.Error("database unavailable", "request_id", middleware.GetRequestID(c), "route", c.FullPath(), "err", err)
		middleware.AbortUnavailable(c)
	default:
		log.Error("request failed", "request_id", middleware.GetRequestID(c), "route", c.FullPath(), "err", err)
		middleware.AbortWithProblem(c, middleware.Problem{Status: http.StatusInternalServerError,
			Detail: "An unexpected error occurred. Request id: " + middleware.GetRequestID(c)})
	}
}

func conflictDetail(c *gin.Context) string {
	switch c.FullPath() {
	case "/api/users":
		return "That username is taken."
	case "/api/clients":
		return "You have registered the most apps one account may have."
	}
	return "The request conflicts with the current state."
}

func problemFields(fs []models.FieldError) []middleware.ProblemField {
	out := make([]middleware.ProblemField, len(fs))
	for i, f := range fs {
		out[i] = middleware.ProblemField{Field: f.Field, Message: f.Message}
	}
	return out
}

// logger is the part of *slog.Logger handlers use.
type logger interface {
	Error(msg string, args ...any)
}
