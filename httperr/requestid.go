package httperr

import "context"

type requestIDKey struct{}

// WithRequestID returns ctx carrying the request's id, which every answer
// of a failure and every log line about the request names.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the request id in ctx, or "" outside a request: code
// that is handed only a context can still name the request in a log line.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}
