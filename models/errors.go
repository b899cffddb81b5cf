package models

import (
	"errors"
	"strings"
)

// ErrNotFound means the object does not exist or does not belong to the
// owner that asked for it. The two cases are deliberately the same error, so
// the existence of another user's object never leaks.
var ErrNotFound = errors.New("not found")

// ErrConflict means the write collides with existing state: a taken
// username, or a one-shot object (code, refresh token) that was already used.
var ErrConflict = errors.New("conflict")

// ErrUnavailable means the database could not be reached or did not answer
// in time: the server is down or unreachable, a call hit its deadline, or
// the embedded database's files cannot be written (read-only or full disk).
// Stores wrap it together with the cause, so errors.Is finds it and the log
// still says why. Callers answer 503: the request may succeed later, unchanged.
var ErrUnavailable = errors.New("the database is unavailable")

// FieldError is one invalid input field and a message a person can act on.
type FieldError struct {
	Field   string
	Message string
}

// ValidationError lists every invalid field of an input, in a fixed order.
type ValidationError struct {
	Fields []FieldError
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Message
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// validator collects field errors in the order the checks run.
type validator struct{ fields []FieldError }

func (v *validator) check(ok bool, field, message string) {
	if !ok {
		v.fields = append(v.fields, FieldError{Field: field, Message: message})
	}
}

// err returns a *ValidationError, or nil when every check passed.
func (v *validator) err() error {
	if len(v.fields) == 0 {
		return nil
	}
	return &ValidationError{Fields: v.fields}
}
