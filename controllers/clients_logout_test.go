package controllers_test

import (
	"net/http"
	"slices"
	"testing"
)

// post_logout_redirect_uris (API.md §9) follow the rules of redirect_uris:
// accepted by POST and PATCH /api/clients, always returned as an array,
// and a bad one is a 400 naming the field.
func TestClientPostLogoutRedirectURIs(t *testing.T) {
	e := newTestEnv(t)
	e.mustRegister("dev", "devs password")
	dev := basic("dev", "devs password")

	r := e.request("POST", "/api/clients", map[string]any{
		"name": "Plain", "redirect_uris": []string{"https://plain.example/cb"},
	}, dev)
	wantStatus(t, r, http.StatusCreated)
	plain := r.json(t)
	if got, ok := plain["post_logout_redirect_uris"].([]any); !ok || len(got) != 0 {
		t.Errorf("post_logout_redirect_uris of a client that sent none = %#v, want []", plain["post_logout_redirect_uris"])
	}

	r = e.request("POST", "/api/clients", map[string]any{
		"name": "Buddy", "redirect_uris": []string{"https://buddy.example/cb"},
		"post_logout_redirect_uris": []string{"https://buddy.example/bye"},
	}, dev)
	wantStatus(t, r, http.StatusCreated)
	id := r.json(t)["client_id"].(string)
	got := e.request("GET", "/api/clients/"+id, nil, dev).json(t)
	if uris := strList(got["post_logout_redirect_uris"]); !slices.Equal(uris, []string{"https://buddy.example/bye"}) {
		t.Errorf("GET post_logout_redirect_uris = %q, want the registered one", uris)
	}

	for name, uris := range map[string][]string{
		"plain http":   {"http://buddy.example/bye"},
		"a fragment":   {"https://buddy.example/bye#x"},
		"not absolute": {"/bye"},
		"eleven":       {"https://a.example/1", "https://a.example/2", "https://a.example/3", "https://a.example/4", "https://a.example/5", "https://a.example/6", "https://a.example/7", "https://a.example/8", "https://a.example/9", "https://a.example/10", "https://a.example/11"},
	} {
		t.Run("POST refuses "+name, func(t *testing.T) {
			r := e.request("POST", "/api/clients", map[string]any{
				"name": "Bad", "redirect_uris": []string{"https://bad.example/cb"}, "post_logout_redirect_uris": uris,
			}, dev)
			p := wantProblem(t, r, http.StatusBadRequest)
			if fields := problemFields(p); !slices.Contains(fields, "post_logout_redirect_uris") {
				t.Errorf("errors[] fields = %q, want post_logout_redirect_uris", fields)
			}
		})
		t.Run("PATCH refuses "+name, func(t *testing.T) {
			r := e.request("PATCH", "/api/clients/"+id, map[string]any{"post_logout_redirect_uris": uris}, dev)
			p := wantProblem(t, r, http.StatusBadRequest)
			if fields := problemFields(p); !slices.Contains(fields, "post_logout_redirect_uris") {
				t.Errorf("errors[] fields = %q, want post_logout_redirect_uris", fields)
			}
		})
	}

	r = e.request("PATCH", "/api/clients/"+id, map[string]any{"post_logout_redirect_uris": []string{"https://buddy.example/later", "http://127.0.0.1/bye"}}, dev)
	wantStatus(t, r, http.StatusOK)
	got = e.request("GET", "/api/clients/"+id, nil, dev).json(t)
	if uris := strList(got["post_logout_redirect_uris"]); !slices.Equal(uris, []string{"https://buddy.example/later", "http://127.0.0.1/bye"}) {
		t.Errorf("after PATCH post_logout_redirect_uris = %q", uris)
	}
	if uris := strList(got["redirect_uris"]); !slices.Equal(uris, []string{"https://buddy.example/cb"}) {
		t.Errorf("PATCH of post_logout_redirect_uris changed redirect_uris to %q", uris)
	}

	r = e.request("PATCH", "/api/clients/"+id, map[string]any{"post_logout_redirect_uris": []string{}}, dev)
	wantStatus(t, r, http.StatusOK)
	got = e.request("GET", "/api/clients/"+id, nil, dev).json(t)
	if uris, ok := got["post_logout_redirect_uris"].([]any); !ok || len(uris) != 0 {
		t.Errorf("after PATCH with [] post_logout_redirect_uris = %#v, want []", got["post_logout_redirect_uris"])
	}
}
