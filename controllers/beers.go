package controllers

import (
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"beerlocker/middleware"
	"beerlocker/models"
	"beerlocker/store/cache"
)

type beerResponse struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Type      string    `json:"type"`
	Quantity  int       `json:"quantity"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func toBeerResponse(b *models.Beer) beerResponse {
	return beerResponse{ID: b.ID, Name: b.Name, Type: b.Type, Quantity: b.Quantity, CreatedAt: b.CreatedAt, UpdatedAt: b.UpdatedAt}
}

type beerListResponse struct {
	Beers      []beerResponse `json:"beers"`
	NextCursor string         `json:"next_cursor,omitempty"`
}

// beerRequest is the body of POST, PUT and PATCH; absent fields are nil.
type beerRequest struct {
	Name     *string `json:"name"`
	Type     *string `json:"type"`
	Quantity *int    `json:"quantity"`
}

func (r *beerRequest) update() models.BeerUpdate {
	return models.BeerUpdate{Name: r.Name, Type: r.Type, Quantity: r.Quantity}
}

// fullBeer validates a body that describes a whole beer (POST, PUT).
type fullBeer beerRequest

func (r *fullBeer) Validate() error { return (*beerRequest)(r).update().ValidateFull() }

// partialBeer validates a body that changes some fields (PATCH).
type partialBeer beerRequest

func (r *partialBeer) Validate() error { return (*beerRequest)(r).update().Validate() }

func createBeer(beers models.BeerRepository, log *slog.Logger, now clock) gin.HandlerFunc {
	return func(c *gin.Context) {
		var in fullBeer
		if err := decodeValid(c, &in); err != nil {
			writeProblem(c, log, err)
			return
		}
		now := now.storeNow()
		b := &models.Beer{ID: models.NewID(now), OwnerID: middleware.GetPrincipal(c).UserID, CreatedAt: now, UpdatedAt: now}
		(*beerRequest)(&in).update().Apply(b)
		if err := beers.Create(c.Request.Context(), b); err != nil {
			writeProblem(c, log, err)
			return
		}
		c.Header("Location", "/api/beers/"+b.ID)
		c.JSON(http.StatusCreated, toBeerResponse(b))
	}
}

// listBeers answers a page of the user's beers. With pages, a page read
// before is answered from memory, as the bytes encoded then; the store's
// beer writes evict the owner's pages, so none is older than a write.
func listBeers(beers models.BeerRepository, pages *cache.Pages, log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		page, err := parsePage(c)
		if err != nil {
			writeProblem(c, log, err)
			return
		}
		owner := middleware.GetPrincipal(c).UserID
		if pages != nil {
			if body, ok := pages.Get(owner, page); ok {
				writeJSONBytes(c, body)
				return
			}
		}
		var gen uint64
		if pages != nil {
			gen = pages.Generation()
		}
		list, next, err := beers.List(c.Request.Context(), owner, page)
		if err != nil {
			writeProblem(c, log, err)
			return
		}
		out := beerListResponse{Beers: make([]beerResponse, len(list)), NextCursor: encodeCursor(next)}
		for i, b := range list {
			out.Beers[i] = toBeerResponse(b)
		}
		body, err := json.Marshal(out)
		if err != nil {
			writeProblem(c, log, err)
			return
		}
		if pages != nil {
			pages.Put(owner, page, body, gen)
		}
		writeJSONBytes(c, body)
	}
}

// jsonContentType is what c.JSON sends, in the form a header map holds.
var jsonContentType = []string{"application/json; charset=utf-8"}

// writeJSONBytes answers 200 with body, JSON already encoded. It is
// c.Data without Header.Set, whose canonicalizing of the name and slice
// per call show in the profile of the busiest route; nothing appends to
// the shared value.
func writeJSONBytes(c *gin.Context, body []byte) {
	c.Writer.Header()["Content-Type"] = jsonContentType
	c.Status(http.StatusOK)
	_, _ = c.Writer.Write(body)
}

func getBeer(beers models.BeerRepository, log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		b, err := beers.Get(c.Request.Context(), middleware.GetPrincipal(c).UserID, c.Param("id"))
		if err != nil {
			writeProblem(c, log, err)
			return
		}
		c.JSON(http.StatusOK, toBeerResponse(b))
	}
}

// updateBeer answers PUT (full replace) and PATCH (partial update).
func updateBeer(beers models.BeerRepository, log *slog.Logger, now clock, full bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		var in beerRequest
		var err error
		if full {
			var f fullBeer
			err = decodeValid(c, &f)
			in = beerRequest(f)
			if in.Type == nil {
				in.Type = new(string) // a full replace clears what it leaves out
			}
		} else {
			var p partialBeer
			err = decodeValid(c, &p)
			in = beerRequest(p)
		}
		if err != nil {
			writeProblem(c, log, err)
			return
		}
		b, err := beers.Update(c.Request.Context(), middleware.GetPrincipal(c).UserID, c.Param("id"), in.update(), now.storeNow())
		if err != nil {
			writeProblem(c, log, err)
			return
		}
		c.JSON(http.StatusOK, toBeerResponse(b))
	}
}

func deleteBeer(beers models.BeerRepository, log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := beers.Delete(c.Request.Context(), middleware.GetPrincipal(c).UserID, c.Param("id")); err != nil {
			writeProblem(c, log, err)
			return
		}
		c.Status(http.StatusNoContent)
	}
}

// parsePage reads limit and cursor from the query string.
func parsePage(c *gin.Context) (models.Page, error) {
	var limit *int
	var cursor *string
	if s, ok := c.GetQuery("limit"); ok {
		n, err := strconv.Atoi(s)
		if err != nil {
			n = 0 // not an integer: as out of range
		}
		limit = &n
	}
	if s, ok := c.GetQuery("cursor"); ok {
		cursor = &s
	}
	page, fields := pageOf(limit, cursor)
	if fields != nil {
		return page, badRequest("The query parameters are invalid.", fields...)
	}
	return page, nil
}

// pageOf checks a page request, from the query string or an MCP tool's
// arguments: limit 1–100 (default 20) and an opaque cursor; nil is absent.
func pageOf(limit *int, cursor *string) (models.Page, []models.FieldError) {
	page := models.Page{Limit: 20}
	var fields []models.FieldError
	if limit != nil {
		if *limit < 1 || *limit > 100 {
			fields = append(fields, models.FieldError{Field: "limit", Message: "must be an integer from 1 to 100"})
		}
		page.Limit = *limit
	}
	if cursor != nil {
		after, ok := decodeCursor(*cursor)
		if !ok {
			fields = append(fields, models.FieldError{Field: "cursor", Message: "is not a cursor this server returned"})
		}
		page.After = after
	}
	return page, fields
}

// Cursors are the last id of a page, base64url-encoded so that clients
// treat them as opaque and the encoding can change.
func encodeCursor(lastID string) string {
	if lastID == "" {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(lastID))
}

func decodeCursor(s string) (string, bool) {
	if len(s) > 64 {
		return "", false
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	// The decoder ignores newlines and the unused bits of the last
	// character; only the cursor encodeCursor made is accepted.
	if err != nil || !models.ValidID(string(b)) || encodeCursor(string(b)) != s {
		return "", false
	}
	return string(b), true
}
