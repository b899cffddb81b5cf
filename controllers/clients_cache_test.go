package controllers_test

import (
	"net/http"
	"net/url"
	"testing"
)

// A client's record is served from memory to the token endpoint, and a
// change made through the API counts on the very next request: a rotated
// secret, a removed grant's client, a deleted client.
func TestClientCacheSeesEveryChange(t *testing.T) {
	e := newOAuthEnv(t)
	cc := url.Values{"grant_type": {"client_credentials"}}
	app := e.mustCreateClient(e.dev, map[string]any{"name": "Cached", "grant_types": []string{"client_credentials"}})
	hits := func() float64 {
		return metricValue(t, e.scrape(), `beerlocker_cache_lookups_total\{cache="clients",result="hit"\}`)
	}
	e.mustToken(&app, cc)
	before := hits()
	e.mustToken(&app, cc)
	if hits() <= before {
		t.Fatalf("the second token request did not read the client from the cache")
	}

	r := e.request("POST", "/api/clients/"+app.ID+"/secret", nil, e.dev)
	wantStatus(t, r, http.StatusOK)
	old := app
	app.Secret = r.json(t)["client_secret"].(string)
	wantOAuthError(t, e.postForm("/api/oauth2/token", &old, cc), http.StatusUnauthorized, "invalid_client")
	e.mustToken(&app, cc)

	wantStatus(t, e.request("DELETE", "/api/clients/"+app.ID, nil, e.dev), http.StatusNoContent)
	wantOAuthError(t, e.postForm("/api/oauth2/token", &app, cc), http.StatusUnauthorized, "invalid_client")
}
