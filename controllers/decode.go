package controllers

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"beerlocker/models"
)

// maxBodyBytes bounds every JSON request body (API.md §2).
const maxBodyBytes = 1 << 20

// validatable is an input that can check itself.
type validatable interface{ Validate() error }

// decodeJSON reads the request body into dst: application/json only (415),
// at most 1 MiB (413), no unknown fields and nothing after the value (400).
func decodeJSON(c *gin.Context, dst any) error {
	mt, _, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if err != nil || mt != "application/json" {
		return &requestError{status: http.StatusUnsupportedMediaType, title: "Unsupported media type",
			detail: "The body must be JSON, sent with Content-Type: application/json."}
	}
	body := http.MaxBytesReader(c.Writer, c.Request.Body, maxBodyBytes)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return jsonError(err)
		}
		return badRequest("The body must hold a single JSON object.")
	}
	return nil
}

// decodeValid decodes and then validates.
func decodeValid[T validatable](c *gin.Context, dst T) error {
	if err := decodeJSON(c, dst); err != nil {
		return err
	}
	return dst.Validate()
}

func jsonError(err error) error {
	var mbe *http.MaxBytesError
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &mbe):
		return &requestError{status: http.StatusRequestEntityTooLarge, title: "Body too large",
			detail: fmt.Sprintf("The body must be at most %d bytes.", maxBodyBytes)}
	case errors.As(err, &syn), errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("The body is not well-formed JSON.")
	case errors.Is(err, io.EOF):
		return badRequest("The body is empty; a JSON object is required.")
	case errors.As(err, &typ):
		if typ.Field == "" {
			return badRequest("The body must be a JSON object.")
		}
		return badRequest("A field has the wrong type.",
			models.FieldError{Field: typ.Field, Message: "must be " + jsonKind(typ.Type.Kind().String())})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		// encoding/json has no typed error for DisallowUnknownFields; it
		// writes the name with %q, so escapes are undone with Unquote.
		name, uerr := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		if uerr != nil || name == "" { // a field error must name a field
			return badRequest("The body has a field with an empty or unreadable name.")
		}
		return badRequest("The body has a field this route does not accept.",
			models.FieldError{Field: name, Message: "is not a known field"})
	}
	return badRequest("The body could not be read as JSON.")
}

func jsonKind(goKind string) string {
	switch goKind {
	case "int", "int64":
		return "an integer"
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice":
		return "an array"
	}
	return "of another type"
}
