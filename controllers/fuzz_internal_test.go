package controllers

import (
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"beerlocker/models"
)

// FuzzCursor checks the pagination cursor: every id round-trips through
// encodeCursor and decodeCursor, and decodeCursor accepts only the one
// cursor encodeCursor makes of a valid id.
func FuzzCursor(f *testing.F) {
	id := models.NewID(time.Now())
	for _, s := range []string{encodeCursor(id), encodeCursor(strings.ToUpper(id)), "", "AAAA", "!!!",
		encodeCursor("01jx00000000000000000000000"), strings.Repeat("M", 65), encodeCursor(id)[:34] + "B"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if models.ValidID(s) {
			if got, ok := decodeCursor(encodeCursor(s)); !ok || got != s {
				t.Fatalf("decodeCursor(encodeCursor(%q)) = %q, %v", s, got, ok)
			}
		}
		got, ok := decodeCursor(s)
		if !ok {
			if got != "" {
				t.Fatalf("decodeCursor(%q) = %q with ok = false", s, got)
			}
			return
		}
		if !models.ValidID(got) {
			t.Fatalf("decodeCursor(%q) = %q, not a valid id", s, got)
		}
		if encodeCursor(got) != s {
			t.Fatalf("decodeCursor(%q) = %q, whose cursor is %q: more than one cursor per id", s, got, encodeCursor(got))
		}
	})
}

// FuzzParsePage checks the list query: limit is accepted exactly when it
// is a number from 1 to 100, the cursor when decodeCursor accepts it, and
// any refusal is a 400 naming the bad parameters in order.
func FuzzParsePage(f *testing.F) {
	gin.SetMode(gin.ReleaseMode)
	f.Add("")
	f.Add("limit=10")
	f.Add("limit=0&cursor=x")
	f.Add("limit=101")
	f.Add("limit=%2B5")
	f.Add("limit=1e2")
	f.Add("cursor=" + encodeCursor(models.NewID(time.Now())))
	f.Add("limit=10&limit=x")
	f.Fuzz(func(t *testing.T, query string) {
		c, _ := gin.CreateTestContext(httptest.NewRecorder())
		c.Request = httptest.NewRequest("GET", "/api/beers", nil)
		c.Request.URL.RawQuery = query
		page, err := parsePage(c)
		q := c.Request.URL.Query()
		var wantFields []string
		if s, ok := q["limit"]; ok {
			if n, err := strconv.Atoi(s[0]); err != nil || n < 1 || n > 100 {
				wantFields = append(wantFields, "limit")
			}
		}
		if s, ok := q["cursor"]; ok {
			if _, valid := decodeCursor(s[0]); !valid {
				wantFields = append(wantFields, "cursor")
			}
		}
		if err == nil {
			if wantFields != nil || page.Limit < 1 || page.Limit > 100 || page.After != "" && !models.ValidID(page.After) {
				t.Fatalf("parsePage(%q) = %+v, want fields %q refused", query, page, wantFields)
			}
			return
		}
		re, ok := err.(*requestError)
		if !ok || re.status != 400 || len(re.fields) != len(wantFields) {
			t.Fatalf("parsePage(%q) error = %v, want 400 on %q", query, err, wantFields)
		}
		for i, fe := range re.fields {
			if fe.Field != wantFields[i] {
				t.Fatalf("parsePage(%q) fields = %+v, want %q", query, re.fields, wantFields)
			}
		}
	})
}
