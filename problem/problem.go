// Package problem writes the answers of API routes that failed: RFC 9457
// problem details (application/problem+json). The status, Retry-After and
// words of a domain error come from the httperr table; this package only
// draws them.
package problem

import (
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"beerlocker/httperr"
	"beerlocker/models"
)

// Problem is an RFC 9457 problem details body.
type Problem struct {
	Type     string  `json:"type"`
	Title    string  `json:"title"`
	Status   int     `json:"status"`
	Detail   string  `json:"detail,omitempty"`
	Instance string  `json:"instance,omitempty"`
	Errors   []Field `json:"errors,omitempty"`
}

// Field is one invalid field of a validation problem.
type Field struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ContentType is the media type of RFC 9457 problem bodies.
const ContentType = "application/problem+json"

// Abort writes p as the response and stops the handler chain. It is the
// one writer of problem bodies.
func Abort(c *gin.Context, p Problem) {
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
	c.Data(p.Status, ContentType, body)
}

// Error answers err as the httperr table says, logging its cause when the
// table says so. detail, when not "", replaces the table's words for a
// Conflict or NotFound, which only the route can put precisely.
func Error(c *gin.Context, log *slog.Logger, err error, detail string) {
	a := httperr.Of(err)
	a.LogCause(c.Request.Context(), log, httperr.RequestID(c.Request.Context()), c.FullPath(), err)
	if a.Kind == httperr.Canceled {
		c.AbortWithStatus(a.Status) // nobody is listening
		return
	}
	a.SetRetryAfter(c.Writer.Header())
	p := Problem{Status: a.Status, Title: a.Title, Detail: a.Message, Errors: Fields(a.Fields)}
	switch a.Kind {
	case httperr.Conflict, httperr.NotFound:
		if detail != "" {
			p.Detail = detail
		}
	case httperr.Unavailable, httperr.Internal:
		p.Detail += " Request id: " + httperr.RequestID(c.Request.Context())
	}
	Abort(c, p)
}

// Fields converts a validation error's fields.
func Fields(fs []models.FieldError) []Field {
	if len(fs) == 0 {
		return nil
	}
	out := make([]Field, len(fs))
	for i, f := range fs {
		out[i] = Field{Field: f.Field, Message: f.Message}
	}
	return out
}
