package controllers_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"beerlocker/models"
	"beerlocker/store/sqlite"
)

func TestHealth(t *testing.T) {
	store, err := sqlite.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	e := newTestEnvWith(t, store)
	wantStatus(t, e.request("GET", "/healthz", nil), 200)
	wantStatus(t, e.request("GET", "/readyz", nil), 200)

	store.Close() // the database stops answering
	wantStatus(t, e.request("GET", "/healthz", nil), 200)
	wantProblem(t, e.request("GET", "/readyz", nil), http.StatusServiceUnavailable)
}

// panickingBeers injects a failure: every call panics.
type panickingBeers struct{ models.BeerRepository }

func (panickingBeers) Get(context.Context, string, string) (*models.Beer, error) {
	panic("boom: a bug in the store")
}

// failingBeers injects a failure: every List returns a database error.
type failingBeers struct{ models.BeerRepository }

func (failingBeers) List(context.Context, string, models.Page) ([]*models.Beer, string, error) {
	return nil, "", errors.New("sqlite: disk I/O error at /secret/path")
}

func TestPanicsAndErrorsBecome500(t *testing.T) {
	store, err := sqlite.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	broken := *store
	broken.Beers = panickingBeers{store.Beers}
	e := newTestEnvWith(t, &broken)
	e.mustRegister("nina", "ninas password")
	auth := basic("nina", "ninas password")

	p := wantProblem(t, e.request("GET", "/api/beers/01jzzzzzzzzzzzzzzzzzzzzzzz", nil, auth), 500)
	if d := p["detail"].(string); containsAny(d, "boom", "panic") {
		t.Errorf("500 detail leaks the panic: %q", d)
	}
	// The server survived the panic.
	wantStatus(t, e.request("GET", "/healthz", nil), 200)

	broken.Beers = failingBeers{store.Beers}
	e = newTestEnvWith(t, &broken)
	p = wantProblem(t, e.request("GET", "/api/beers", nil, auth), 500)
	if d := p["detail"].(string); containsAny(d, "sqlite", "secret") {
		t.Errorf("500 detail leaks the error: %q", d)
	}
}

func containsAny(s string, subs ...string) bool {
	return slices.ContainsFunc(subs, func(sub string) bool { return strings.Contains(s, sub) })
}
