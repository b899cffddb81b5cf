// Package e2etest is what the system tests share: e2e/ (the end-to-end
// tests) and docs/postman (the Postman collection run by newman). It finds
// the repository root from a test's working directory, and runs the
// service in the test's process through app.Run.
package e2etest

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"beerlocker/app"
)

// Module is the module path of the repository.
const Module = "beerlocker"

// RepoRoot returns the repository root: the nearest directory at or above
// the working directory (go test runs a test in its package directory)
// whose go.mod declares module beerlocker.
func RepoRoot(t testing.TB) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for dir := wd; ; {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil {
			for line := range strings.Lines(string(b)) {
				if f := strings.Fields(line); len(f) == 2 && f[0] == "module" {
					if f[1] != Module {
						t.Fatalf("%s/go.mod declares module %s, want %s", dir, f[1], Module)
					}
					return dir
				}
			}
			t.Fatalf("%s/go.mod declares no module", dir)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("no go.mod at or above %s", wd)
		}
		dir = parent
	}
}

// FreeAddr returns a loopback address with a port nothing listens on now,
// for a service whose PUBLIC_URL must be known before it starts (clients
// that check the issuer or resource against the URL they call).
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// StartInProcess runs the service (app.Run) in a goroutine with the given
// environment, waits until it listens and /healthz answers 200, and
// returns its base URL and a function that stops it and returns Run's
// error. The service is stopped at the end of the test if still running.
// METRICS_ADDR defaults to 127.0.0.1:0, as tests run side by side.
func StartInProcess(t testing.TB, env map[string]string) (string, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	getenv := func(k string) string {
		if k == "METRICS_ADDR" && env[k] == "" {
			return "127.0.0.1:0" // tests run side by side: no fixed port
		}
		return env[k]
	}
	go func() {
		err := app.Run(ctx, []string{"beerlocker"}, getenv, pw, io.Discard)
		pw.CloseWithError(io.EOF)
		done <- err
	}()
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		found := false
		for sc.Scan() {
			var line struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "listening" && !found {
				found = true
				addr <- line.Addr
			}
			// Keep draining so logging never blocks.
		}
		if !found {
			close(addr)
		}
	}()
	var base string
	select {
	case a, ok := <-addr:
		if !ok {
			cancel()
			t.Fatalf("run exited before listening: %v", <-done)
		}
		base = "http://" + a
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("run did not start listening in 30 s")
	}
	stopped := false
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(30 * time.Second):
			t.Fatal("run did not stop in 30 s")
			return nil
		}
	}
	t.Cleanup(func() { stop() })
	waitHealthy(t, base)
	return base, stop
}

func waitHealthy(t testing.TB, base string) {
	t.Helper()
	for range 100 {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s/healthz never answered 200", base)
}

// RequestJSON sends body (as application/json unless empty) with Basic
// credentials unless user is empty, and returns the response and its body.
func RequestJSON(t testing.TB, method, url, body string, user, pass string) (*http.Response, string) {
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
