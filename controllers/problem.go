package controllers

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"beerlocker/models"
	"beerlocker/problem"
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

// writeProblem answers an API route's error: a problem with the request
// itself as found, anything else as the httperr table says.
func writeProblem(c *gin.Context, log *slog.Logger, err error) {
	var re *requestError
	if errors.As(err, &re) {
		problem.Abort(c, problem.Problem{Status: re.status, Title: re.title, Detail: re.detail, Errors: problem.Fields(re.fields)})
		return
	}
	problem.Error(c, log, err, conflictDetail(c, err))
}

// conflictDetail says what a 409 conflicts with on routes where it is
// more than the table's words; "" keeps those.
func conflictDetail(c *gin.Context, err error) string {
	if !errors.Is(err, models.ErrConflict) {
		return ""
	}
	switch c.FullPath() {
	case "/api/users":
		return "That username is taken."
	case "/api/clients":
		return "You have registered the most apps one account may have."
	case "/api/users/me/tokens":
		return "You have the most personal access tokens one account may have; delete one first."
	}
	return ""
}
