package app_test

import (
	"beerlocker/app"
	"beerlocker/e2e/e2etest"
	"beerlocker/limits"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRunServesAndPersistsAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"ADDR": "127.0.0.1:0", "DATA_DIR": dir}

	base, stop := e2etest.StartInProcess(t, env)
	resp, body := e2etest.RequestJSON(t, "POST", base+"/api/users", `{"username":"olga","password":"olgas password"}`, "", "")
	if resp.StatusCode != 201 {
		t.Fatalf("register: status = %d: %s", resp.StatusCode, body)
	}
	resp, body = e2etest.RequestJSON(t, "POST", base+"/api/beers", `{"name":"Kept","quantity":7}`, "olga", "olgas password")
	if resp.StatusCode != 201 {
		t.Fatalf("create beer: status = %d: %s", resp.StatusCode, body)
	}
	if err := stop(); err != nil {
		t.Fatalf("run returned %v after a clean shutdown", err)
	}
	key1, err := os.ReadFile(filepath.Join(dir, "secret_key"))
	if err != nil || len(strings.TrimSpace(string(key1))) < 32 {
		t.Fatalf("secret key not kept in DATA_DIR: %q, %v", key1, err)
	}

	base, _ = e2etest.StartInProcess(t, env)
	resp, body = e2etest.RequestJSON(t, "GET", base+"/api/beers", "", "olga", "olgas password")
	if resp.StatusCode != 200 || !strings.Contains(body, `"name":"Kept"`) || !strings.Contains(body, `"quantity":7`) {
		t.Fatalf("after restart: status = %d, body = %s; want the beer back", resp.StatusCode, body)
	}
	key2, _ := os.ReadFile(filepath.Join(dir, "secret_key"))
	if string(key1) != string(key2) {
		t.Error("secret key changed across a restart")
	}
}

func TestShutdownFinishesInFlightRequests(t *testing.T) {
	base, stop := e2etest.StartInProcess(t, map[string]string{"ADDR": "127.0.0.1:0", "DATA_DIR": t.TempDir()})
	// A request whose body is still arriving when shutdown starts.
	body, w := io.Pipe()
	result := make(chan error, 1)
	status := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest("POST", base+"/api/users", body)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			result <- err
			return
		}
		resp.Body.Close()
		status <- resp.StatusCode
	}()
	io.WriteString(w, `{"username":"pete",`)
	time.Sleep(200 * time.Millisecond)
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	time.Sleep(200 * time.Millisecond)
	select {
	case err := <-stopped:
		t.Fatalf("run returned (%v) while a request was in flight", err)
	default:
	}
	io.WriteString(w, `"password":"petes password"}`)
	w.Close()
	select {
	case got := <-status:
		if got != 201 {
			t.Errorf("in-flight request: status = %d, want 201", got)
		}
	case err := <-result:
		t.Fatalf("in-flight request failed: %v", err)
	}
	if err := <-stopped; err != nil {
		t.Fatalf("run: %v", err)
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Error("server still accepts connections after shutdown")
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"bad addr", map[string]string{"ADDR": "3000"}, nil, "ADDR"},
		{"bad port", map[string]string{"ADDR": ":99999"}, nil, "ADDR"},
		{"bad host", map[string]string{"ADDR": "not a host:80"}, nil, "ADDR"},
		{"bad public url", map[string]string{"PUBLIC_URL": "localhost:3000"}, nil, "PUBLIC_URL"},
		{"public url with query", map[string]string{"PUBLIC_URL": "https://x.example/?a=b"}, nil, "PUBLIC_URL"},
		{"bad mongo uri", map[string]string{"MONGODB_URI": "postgres://x"}, nil, "MONGODB_URI"},
		{"bad database", map[string]string{"MONGODB_DATABASE": "a/b"}, nil, "MONGODB_DATABASE"},
		{"short secret", map[string]string{"SECRET_KEY": "short"}, nil, "SECRET_KEY"},
		{"bad cache ttl", map[string]string{"TOKEN_CACHE_TTL": "soon"}, nil, "TOKEN_CACHE_TTL"},
		{"long cache ttl", map[string]string{"TOKEN_CACHE_TTL": "2h"}, nil, "TOKEN_CACHE_TTL"},
		{"bad rotation", map[string]string{"SIGNING_KEY_ROTATION": "30 days"}, nil, "SIGNING_KEY_ROTATION"},
		{"short rotation", map[string]string{"SIGNING_KEY_ROTATION": "10m"}, nil, "SIGNING_KEY_ROTATION"},
		{"long rotation", map[string]string{"SIGNING_KEY_ROTATION": "9000h"}, nil, "SIGNING_KEY_ROTATION"},
		{"rotation within the delay", map[string]string{"SIGNING_KEY_ROTATION": "2h", "SIGNING_KEY_ACTIVATION_DELAY": "3h"}, nil, "SIGNING_KEY_ROTATION"},
		{"bad activation delay", map[string]string{"SIGNING_KEY_ACTIVATION_DELAY": "soon"}, nil, "SIGNING_KEY_ACTIVATION_DELAY"},
		{"negative activation delay", nil, []string{"-signing-key-activation-delay", "-1s"}, "SIGNING_KEY_ACTIVATION_DELAY"},
		{"long activation delay", map[string]string{"SIGNING_KEY_ACTIVATION_DELAY": "25h"}, nil, "SIGNING_KEY_ACTIVATION_DELAY"},
		{"flag beats env", map[string]string{"ADDR": ":3000"}, []string{"-addr", "nope"}, "ADDR"},
		{"unknown argument", nil, []string{"serve-please"}, "unexpected argument"},
		{"bad trusted proxy", map[string]string{"TRUSTED_PROXIES": "10.0.0.0/8, caddy"}, nil, "TRUSTED_PROXIES"},
		{"bad trusted proxy flag", nil, []string{"-trusted-proxies", "10.0.0.0/33"}, "TRUSTED_PROXIES"},
		{"bad refresh grace", map[string]string{"REFRESH_REUSE_GRACE": "soon"}, nil, "REFRESH_REUSE_GRACE"},
		{"long refresh grace", map[string]string{"REFRESH_REUSE_GRACE": "61s"}, nil, "REFRESH_REUSE_GRACE"},
		{"negative refresh grace", nil, []string{"-refresh-reuse-grace", "-1s"}, "REFRESH_REUSE_GRACE"},
		{"bad metadata loopback", map[string]string{"CLIENT_METADATA_ALLOW_HTTP_LOOPBACK": "yes"}, nil, "CLIENT_METADATA_ALLOW_HTTP_LOOPBACK"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"DATA_DIR": t.TempDir()}
			for k, v := range tc.env {
				env[k] = v
			}
			err := app.Run(context.Background(), append([]string{"beerlocker"}, tc.args...), func(k string) string { return env[k] }, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("run error = %v, want one line mentioning %s", err, tc.want)
			}
		})
	}
}

// TestConfigClientMetadataLoopback: the development setting is off unless
// set to 1 (or true), by the environment or the flag.
func TestConfigClientMetadataLoopback(t *testing.T) {
	for _, tc := range []struct {
		env  string
		args []string
		want bool
	}{{"", nil, false}, {"0", nil, false}, {"1", nil, true}, {"true", nil, true}, {"", []string{"-client-metadata-allow-http-loopback"}, true}} {
		cfg, err := app.ParseConfig(tc.args, func(k string) string {
			if k == "CLIENT_METADATA_ALLOW_HTTP_LOOPBACK" {
				return tc.env
			}
			return ""
		}, io.Discard)
		if err != nil || cfg.ClientMetadataAllowHTTPLoopback != tc.want {
			t.Errorf("env %q args %v: %v, %v; want %v", tc.env, tc.args, cfg.ClientMetadataAllowHTTPLoopback, err, tc.want)
		}
	}
}

func TestConfigDefaults(t *testing.T) {
	cfg, err := app.ParseConfig(nil, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := app.Config{Addr: ":3000", PublicURL: "http://localhost:3000", MongoDatabase: "beerlocker", DataDir: "./data", TokenCacheTTL: 5 * time.Second, MetricsAddr: "127.0.0.1:9090",
		Limits: limits.DefaultLimits, SigningKeyRotation: 720 * time.Hour, SigningKeyActivationDelay: 10 * time.Minute}
	if cfg != want {
		t.Errorf("defaults = %+v, want %+v", cfg, want)
	}
}
