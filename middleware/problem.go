package middleware

import (
	"beerlocker/limits"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
)

// Problem is an RFC 9457 problem details body.
type Problem struct {
	Type     string         `json:"type"`
	Title    string         `json:"title"`
	Status   int            `json:"status"`
	Detail   string         `json:"detail,omitempty"`
	Instance string         `json:"instance,omitempty"`
	Errors   []ProblemField `json:"errors,omitempty"`
}

// ProblemField is one invalid field of a validation problem.
type ProblemField struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ProblemContentType is the media type of RFC 9457 problem bodies.
const ProblemContentType = "application/problem+json"

// AbortWithProblem writes p as the response and stops the handler chain.
// It is the one writer of problem bodies; controllers decide which problem.
func AbortWithProblem(c *gin.Context, p Problem) {
	if p.Type == "" {
		p.Type = "about:blank"
	}
	if p.Title == "" {
		p.Title = http.StatusText(p.Status)
	}
	body, err := json.Marshal(p)
	if err != nil { // only strings and ints: cannot happen
		panic(err)
	}
	c.Abort()
	c.Data(p.Status, ProblemContentType, body)
}

// RetryAfterUnavailable is the Retry-After, in seconds, of a 503 answered
// because the database is unavailable (models.ErrUnavailable): about the
// time the store takes to notice the database is back.
const RetryAfterUnavailable = 5

// AbortUnavailable answers 503 with Retry-After for a request that failed
// because the database is unavailable (models.ErrUnavailable). The caller
// logs the cause.
func AbortUnavailable(c *gin.Context) {
	c.Header("Retry-After", strconv.Itoa(RetryAfterUnavailable))
	AbortWithProblem(c, Problem{Status: http.StatusServiceUnavailable, Title: "Service unavailable",
		Detail: "The database is unavailable. Try again shortly. Request id: " + GetRequestID(c)})
}

// AbortTooManyAttempts answers an API request refused by a Guard: 429, a
// problem, and Retry-After.
func AbortTooManyAttempts(c *gin.Context, le *limits.LimitedError) {
	c.Header("Retry-After", strconv.Itoa(le.RetryAfter()))
	AbortWithProblem(c, Problem{Status: http.StatusTooManyRequests, Title: "Too many failed attempts",
		Detail: "Too many failed sign-in attempts from this address or for this account. Try again in " + le.InWords() + "."})
}
