package main

// Temporary: the system tests move to e2e/ next; until then they reach the
// program through package app.

import (
	"beerlocker/app"
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

var run = app.Run

var parseConfig = app.ParseConfig

// startRun runs the service in a goroutine with the given environment and
// returns its base URL and a function that stops it and returns run's error.
func startRun(t *testing.T, env map[string]string) (string, func() error) {
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
		err := run(ctx, []string{"beerlocker"}, getenv, pw, io.Discard)
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

func waitHealthy(t *testing.T, base string) {
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

func do(t *testing.T, method, url, body string, user, pass string) (*http.Response, string) {
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
