package controllers_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

func TestBeerLifecycle(t *testing.T) {
	e := newTestEnv(t)
	e.mustRegister("hank", "hanks password")
	auth := basic("hank", "hanks password")

	r := e.request("POST", "/api/beers", `{"name":"Westmalle Tripel","type":"Tripel","quantity":6}`, auth)
	wantStatus(t, r, http.StatusCreated)
	b := r.json(t)
	id := b["id"].(string)
	if got, want := r.Header.Get("Location"), "/api/beers/"+id; got != want {
		t.Errorf("Location = %q, want %q", got, want)
	}
	if b["name"] != "Westmalle Tripel" || b["type"] != "Tripel" || b["quantity"] != float64(6) ||
		b["created_at"] == nil || b["created_at"] != b["updated_at"] || len(b) != 6 {
		t.Errorf("created beer = %v", b)
	}

	r = e.request("GET", "/api/beers/"+id, nil, auth)
	wantStatus(t, r, 200)
	if got := r.json(t); got["name"] != "Westmalle Tripel" || got["created_at"] != b["created_at"] {
		t.Errorf("got beer = %v, want what was created: %v", got, b)
	}

	r = e.request("PATCH", "/api/beers/"+id, `{"quantity":5}`, auth)
	wantStatus(t, r, 200)
	if got := r.json(t); got["quantity"] != float64(5) || got["name"] != "Westmalle Tripel" || got["type"] != "Tripel" {
		t.Errorf("patched beer = %v, want only quantity changed", got)
	}

	r = e.request("PUT", "/api/beers/"+id, `{"name":"Westmalle Dubbel","quantity":2}`, auth)
	wantStatus(t, r, 200)
	if got := r.json(t); got["name"] != "Westmalle Dubbel" || got["type"] != "" || got["quantity"] != float64(2) || got["created_at"] != b["created_at"] {
		t.Errorf("replaced beer = %v, want name and quantity replaced and type cleared", got)
	}
	wantProblem(t, e.request("PUT", "/api/beers/"+id, `{"type":"x"}`, auth), 400)

	r = e.request("DELETE", "/api/beers/"+id, nil, auth)
	wantStatus(t, r, http.StatusNoContent)
	wantProblem(t, e.request("GET", "/api/beers/"+id, nil, auth), 404)
	wantProblem(t, e.request("DELETE", "/api/beers/"+id, nil, auth), 404)
}

func TestBeerValidation(t *testing.T) {
	e := newTestEnv(t)
	e.mustRegister("ivy", "ivys password")
	auth := basic("ivy", "ivys password")
	long := strings.Repeat("é", 101)
	tests := []struct {
		name   string
		body   string
		fields []string
	}{
		{"missing name and quantity", `{}`, []string{"name", "quantity"}},
		{"empty name", `{"name":"","quantity":1}`, []string{"name"}},
		{"long name", `{"name":"` + long + `","quantity":1}`, []string{"name"}},
		{"long type", `{"name":"a","type":"` + long + `","quantity":1}`, []string{"type"}},
		{"negative quantity", `{"name":"a","quantity":-1}`, []string{"quantity"}},
		{"too many", `{"name":"a","quantity":1000001}`, []string{"quantity"}},
		{"fractional quantity", `{"name":"a","quantity":1.5}`, []string{"quantity"}},
		{"string quantity", `{"name":"a","quantity":"3"}`, []string{"quantity"}},
		{"unknown field", `{"name":"a","quantity":1,"abv":5}`, []string{"abv"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := wantProblem(t, e.request("POST", "/api/beers", tc.body, auth), 400)
			if got := problemFields(p); !slices.Equal(got, tc.fields) {
				t.Errorf("fields = %v, want %v", got, tc.fields)
			}
		})
	}
	wantStatus(t, e.request("POST", "/api/beers", `{"name":"`+strings.Repeat("é", 100)+`","quantity":1000000}`, auth), 201)
	wantStatus(t, e.request("POST", "/api/beers", `{"name":"a","quantity":0}`, auth), 201)
}

func TestBeersOfOthersAreNotFound(t *testing.T) {
	e := newTestEnv(t)
	e.mustRegister("jack", "jacks password")
	e.mustRegister("kate", "kates password")
	jack, kate := basic("jack", "jacks password"), basic("kate", "kates password")
	id := e.mustCreateBeer(jack, "Jack's beer", 1)["id"].(string)

	wantProblem(t, e.request("GET", "/api/beers/"+id, nil, kate), 404)
	wantProblem(t, e.request("PATCH", "/api/beers/"+id, `{"quantity":0}`, kate), 404)
	wantProblem(t, e.request("PUT", "/api/beers/"+id, `{"name":"mine","quantity":0}`, kate), 404)
	wantProblem(t, e.request("DELETE", "/api/beers/"+id, nil, kate), 404)
	// The same answer as for an id that does not exist at all.
	wantProblem(t, e.request("GET", "/api/beers/01jzzzzzzzzzzzzzzzzzzzzzzz", nil, kate), 404)
	wantProblem(t, e.request("GET", "/api/beers/not-an-id", nil, kate), 404)

	r := e.request("GET", "/api/beers/"+id, nil, jack)
	wantStatus(t, r, 200)
	if b := r.json(t); b["quantity"] != float64(1) || b["name"] != "Jack's beer" {
		t.Errorf("jack's beer = %v, want it unchanged", b)
	}
	r = e.request("GET", "/api/beers", nil, kate)
	if beers := r.json(t)["beers"].([]any); len(beers) != 0 {
		t.Errorf("kate's list = %v, want empty", beers)
	}
}

func TestListBeersPaginates(t *testing.T) {
	e := newTestEnv(t)
	e.mustRegister("liam", "liams password")
	auth := basic("liam", "liams password")
	var created []string
	for i := range 25 {
		created = append(created, e.mustCreateBeer(auth, fmt.Sprintf("beer %d", i), i)["id"].(string))
	}
	slices.Reverse(created) // newest first

	var got []string
	cursor := ""
	var pages []int
	for {
		path := "/api/beers?limit=10"
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		r := e.request("GET", path, nil, auth)
		wantStatus(t, r, 200)
		body := r.json(t)
		beers := body["beers"].([]any)
		pages = append(pages, len(beers))
		for _, b := range beers {
			got = append(got, b.(map[string]any)["id"].(string))
		}
		next, ok := body["next_cursor"].(string)
		if !ok {
			break
		}
		cursor = next
	}
	if !slices.Equal(pages, []int{10, 10, 5}) {
		t.Errorf("page sizes = %v, want [10 10 5]", pages)
	}
	if !slices.Equal(got, created) {
		t.Errorf("ids = %v\nwant newest first %v", got, created)
	}

	r := e.request("GET", "/api/beers", nil, auth)
	if n := len(r.json(t)["beers"].([]any)); n != 20 {
		t.Errorf("default page size = %d, want 20", n)
	}
	r = e.request("GET", "/api/beers?limit=100", nil, auth)
	if _, ok := r.json(t)["next_cursor"]; ok {
		t.Errorf("next_cursor present on the last page: %s", r.body)
	}
	for _, q := range []string{"limit=0", "limit=101", "limit=ten", "cursor=%25%25", "cursor=bm90LWFuLWlk", "cursor=" + strings.Repeat("A", 200)} {
		t.Run(q, func(t *testing.T) {
			wantProblem(t, e.request("GET", "/api/beers?"+q, nil, auth), 400)
		})
	}
}

func TestRequestErrors(t *testing.T) {
	e := newTestEnv(t)
	e.mustRegister("mona", "monas password")
	auth := basic("mona", "monas password")

	wantProblem(t, e.request("POST", "/api/beers", `{"name":"a","quantity":1}`, auth, "Content-Type: text/plain"), http.StatusUnsupportedMediaType)
	huge := `{"name":"` + strings.Repeat("a", 1<<20) + `","quantity":1}`
	wantProblem(t, e.request("POST", "/api/beers", huge, auth), http.StatusRequestEntityTooLarge)
	wantProblem(t, e.request("POST", "/api/users", `{"username":"`+strings.Repeat("a", 1<<20)+`"}`), http.StatusRequestEntityTooLarge)
	wantProblem(t, e.request("POST", "/api/beers", `{"name":"a","quantity":1`, auth), http.StatusBadRequest)
	// A charset parameter is fine.
	wantStatus(t, e.request("POST", "/api/beers", `{"name":"a","quantity":1}`, auth, "Content-Type: application/json; charset=utf-8"), 201)

	r := e.request("POST", "/api/beers/abc", nil, auth)
	wantProblem(t, r, http.StatusMethodNotAllowed)
	wantProblem(t, e.request("DELETE", "/api/users", nil), http.StatusMethodNotAllowed)
	wantProblem(t, e.request("GET", "/api/nothing-here", nil), http.StatusNotFound)
}
