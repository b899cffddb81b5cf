// Package e2e holds the system tests: they run the whole service, in
// process through app.Run (e2etest.StartInProcess) or as the real binary
// built from the repository root (binary_test.go), against the embedded
// database, MongoDB (FerretDB) or Redis, and drive it over HTTP, from a
// headless Chromium or with raw TCP.
package e2e

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// requestJSON sends body (as application/json unless empty) with Basic
// credentials unless user is empty, and returns the response and its body.
func requestJSON(t *testing.T, method, url, body string, user, pass string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}
