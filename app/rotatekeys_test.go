package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"beerlocker/app"
	"beerlocker/e2e/e2etest"
)

var kidLine = regexp.MustCompile(`(?m)^  (RS256|ES256)  kid=([A-Za-z0-9_-]{43})  generation (\d+)  signs from \S+ \(in ([^)]+)\)$`)

func runRotateKeys(env map[string]string) (string, error) {
	var out bytes.Buffer
	err := app.Run(context.Background(), []string{"beerlocker", "rotate-keys"}, func(k string) string { return env[k] }, &out, io.Discard)
	return out.String(), err
}

// jwksKids returns the kids the service at base publishes.
func jwksKids(t *testing.T, base string) []string {
	t.Helper()
	resp, err := http.Get(base + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set struct{ Keys []struct{ Kid string } }
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /.well-known/jwks.json: status %d, %v", resp.StatusCode, err)
	}
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.Kid)
	}
	return kids
}

// TestRotateKeys runs `beerlocker rotate-keys` with the service's own
// environment: it prints the new keys and when they sign, and the service
// publishes them; under another SECRET_KEY it fails, saying so, and
// changes nothing.
func TestRotateKeys(t *testing.T) {
	env := map[string]string{"ADDR": "127.0.0.1:0", "DATA_DIR": t.TempDir()}
	base, stop := e2etest.StartInProcess(t, env)
	first := jwksKids(t, base)
	if len(first) != 2 {
		t.Fatalf("a first start publishes %v, want one key per algorithm", first)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	out, err := runRotateKeys(env)
	if err != nil {
		t.Fatalf("rotate-keys: %v", err)
	}
	lines := kidLine.FindAllStringSubmatch(out, -1)
	if len(lines) != 2 || lines[0][1] != "RS256" || lines[1][1] != "ES256" {
		t.Fatalf("rotate-keys printed:\n%s\nwant a line per algorithm with its kid and when it signs", out)
	}
	for _, l := range lines {
		if l[3] != "2" || l[4] != "10m0s" {
			t.Errorf("rotate-keys: %s is generation %s, signing in %s; want generation 2 in the default 10m0s", l[1], l[3], l[4])
		}
	}

	base, stop = e2etest.StartInProcess(t, env)
	published := jwksKids(t, base)
	for _, kid := range append(first, lines[0][2], lines[1][2]) {
		if !slices.Contains(published, kid) {
			t.Errorf("after rotate-keys the service publishes %v, want %s among them", published, kid)
		}
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	wrong := map[string]string{"DATA_DIR": env["DATA_DIR"], "SECRET_KEY": strings.Repeat("x", 32)}
	if _, err := runRotateKeys(wrong); err == nil || !strings.Contains(err.Error(), "SECRET_KEY") || strings.Contains(err.Error(), "\n") {
		t.Errorf("rotate-keys under another SECRET_KEY: %v; want one line naming SECRET_KEY", err)
	}
	wrong["ADDR"] = "127.0.0.1:0"
	if err := app.Run(context.Background(), []string{"beerlocker"}, func(k string) string { return wrong[k] }, io.Discard, io.Discard); err == nil ||
		!strings.Contains(err.Error(), "SECRET_KEY") {
		t.Errorf("the service under another SECRET_KEY: %v; want it to refuse to start, naming SECRET_KEY", err)
	}
	base, _ = e2etest.StartInProcess(t, env)
	if got := jwksKids(t, base); !slices.Equal(got, published) {
		t.Errorf("after the refused rotation the service publishes %v, want %v unchanged", got, published)
	}
}
