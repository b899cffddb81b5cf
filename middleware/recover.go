package middleware

import (
	"beerlocker/problem"
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"

	"github.com/gin-gonic/gin"
)

var errPanic = errors.New("panic")

// Recover turns a panic into a generic 500 problem. The stack goes to the
// log with the request id, never to the client.
func Recover(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(v) // the server's way to drop a connection; not a bug
			}
			log.Error("panic", "request_id", GetRequestID(c), "panic", v, "stack", string(debug.Stack()))
			if c.Writer.Written() {
				c.Abort()
				return
			}
			problem.Error(c, nil, errPanic, "") // logged above, with the stack
		}()
		c.Next()
	}
}
