package controllers

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"beerlocker/docs"
)

// openAPIETag is the strong validator of the embedded document, which
// changes only with the binary.
var openAPIETag = func() string {
	sum := sha256.Sum256(docs.OpenAPI)
	return `"` + hex.EncodeToString(sum[:16]) + `"`
}()

// openAPI serves the OpenAPI document (docs/openapi.json). It may be
// cached for an hour and revalidated with If-None-Match.
func openAPI(c *gin.Context) {
	c.Header("Cache-Control", "public, max-age=3600")
	c.Header("ETag", openAPIETag)
	if etagMatches(c.GetHeader("If-None-Match"), openAPIETag) {
		c.Status(http.StatusNotModified)
		return
	}
	c.Data(http.StatusOK, "application/json", docs.OpenAPI)
}

// etagMatches applies the weak comparison of RFC 9110 §13.1.2 to an
// If-None-Match header.
func etagMatches(header, etag string) bool {
	for tag := range strings.SplitSeq(header, ",") {
		tag = strings.TrimSpace(tag)
		if tag == "*" || strings.TrimPrefix(tag, "W/") == etag {
			return true
		}
	}
	return false
}
