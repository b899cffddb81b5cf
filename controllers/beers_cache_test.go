package controllers_test

import (
	"net/http"
	"net/url"
	"testing"
)

// beerNames lists the names on one page of GET /api/beers.
func beerNames(t testing.TB, e *testEnv, auth, query string) (names []string, next string) {
	t.Helper()
	r := e.request("GET", "/api/beers"+query, nil, auth)
	wantStatus(t, r, http.StatusOK)
	var page struct {
		Beers []struct {
			Name string `json:"name"`
		} `json:"beers"`
		NextCursor string `json:"next_cursor"`
	}
	decode(t, r, &page)
	for _, b := range page.Beers {
		names = append(names, b.Name)
	}
	return names, page.NextCursor
}

// Pages of beers are served from memory on the embedded database, and
// every write shows on the very next read: create, PUT, PATCH and DELETE,
// on every page of the owner, never on another user's, and an account
// deletion takes its pages with it.
func TestBeerPagesSeeEveryWrite(t *testing.T) {
	e := newTestEnv(t)
	e.mustRegister("ann", "anns password")
	e.mustRegister("ben", "bens password")
	ann, ben := basic("ann", "anns password"), basic("ben", "bens password")
	first := e.mustCreateBeer(ann, "First", 1)["id"].(string)
	e.mustCreateBeer(ann, "Second", 2)
	e.mustCreateBeer(ben, "Bens", 3)

	want := func(auth, query string, names ...string) string {
		t.Helper()
		got, next := beerNames(t, e, auth, query)
		if len(got) != len(names) {
			t.Fatalf("GET /api/beers%s = %q, want %q", query, got, names)
		}
		for i := range names {
			if got[i] != names[i] {
				t.Fatalf("GET /api/beers%s = %q, want %q", query, got, names)
			}
		}
		return next
	}
	hits := func() float64 {
		return metricValue(t, e.scrape(), `beerlocker_cache_lookups_total\{cache="beer_pages",result="hit"\}`)
	}
	want(ann, "", "Second", "First")
	before := hits()
	want(ann, "", "Second", "First")
	if hits() != before+1 {
		t.Fatalf("the second read of the same page was not served from the cache (hits %v → %v)", before, hits())
	}
	next := want(ann, "?limit=1", "Second")
	want(ann, "?limit=1&cursor="+url.QueryEscape(next), "First")
	want(ben, "", "Bens")

	e.mustCreateBeer(ann, "Third", 3)
	want(ann, "", "Third", "Second", "First")
	wantStatus(t, e.request("PATCH", "/api/beers/"+first, map[string]any{"name": "First, renamed"}, ann), http.StatusOK)
	want(ann, "", "Third", "Second", "First, renamed")
	want(ann, "?limit=1&cursor="+url.QueryEscape(next), "First, renamed")
	wantStatus(t, e.request("PUT", "/api/beers/"+first, map[string]any{"name": "First, replaced", "quantity": 1}, ann), http.StatusOK)
	want(ann, "", "Third", "Second", "First, replaced")
	wantStatus(t, e.request("DELETE", "/api/beers/"+first, nil, ann), http.StatusNoContent)
	want(ann, "", "Third", "Second")
	want(ann, "?limit=1&cursor="+url.QueryEscape(next))
	want(ben, "", "Bens")

	// A write that fails changes nothing and shows nothing.
	wantStatus(t, e.request("PATCH", "/api/beers/"+first, map[string]any{"name": "Ghost"}, ann), http.StatusNotFound)
	want(ann, "", "Third", "Second")

	wantStatus(t, e.request("DELETE", "/api/users/me", nil, ann), http.StatusNoContent)
	e.mustRegister("ann", "anns new password")
	want(basic("ann", "anns new password"), "")
}
