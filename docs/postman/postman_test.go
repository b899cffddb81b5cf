// Package postman tests the Postman walkthrough in this directory: newman
// runs it against the service.
package postman

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"beerlocker/e2e/e2etest"
	"beerlocker/store/redis/redistest"
)

// The collection and its environment, in this directory, where go test
// runs the test.
const (
	postmanCollection  = "beerlocker.postman_collection.json"
	postmanEnvironment = "local.postman_environment.json"
)

// findNewman returns the newman that scripts/tools.sh installs (in .tools/
// at the repository root), or one on PATH, or "" when there is none.
func findNewman(t *testing.T) string {
	t.Helper()
	local := filepath.Join(e2etest.RepoRoot(t), ".tools", "node_modules", ".bin", "newman")
	if fi, err := os.Stat(local); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
		if abs, err := filepath.Abs(local); err == nil {
			return abs
		}
	}
	if p, err := exec.LookPath("newman"); err == nil {
		return p
	}
	return ""
}

// TestPostmanCollection runs the Postman walkthrough in docs/postman with
// newman against the real service, twice against the same server (each run
// registers its own user, so the collection can be re-run against a
// long-lived server), then once more with REDIS_URL set.
func TestPostmanCollection(t *testing.T) {
	newman := findNewman(t)
	if newman == "" {
		if os.Getenv("BEERLOCKER_REQUIRE_TOOLS") == "1" {
			t.Fatal("newman not found at .tools/node_modules/.bin/newman or on PATH, and BEERLOCKER_REQUIRE_TOOLS=1; run scripts/tools.sh")
		}
		t.Skip("SKIP: newman not found at .tools/node_modules/.bin/newman or on PATH; run scripts/tools.sh to install it")
	}
	for _, f := range []string{postmanCollection, postmanEnvironment} {
		if _, err := os.Stat(f); err != nil {
			t.Fatal(err)
		}
	}

	base, _ := e2etest.StartInProcess(t, map[string]string{"ADDR": "127.0.0.1:0", "DATA_DIR": t.TempDir()})
	for _, name := range []string{"first run", "second run, same server"} {
		t.Run(name, func(t *testing.T) { runNewman(t, newman, base) })
	}
	t.Run("with REDIS_URL", func(t *testing.T) {
		rsrv := redistest.Start(t)
		base, _ := e2etest.StartInProcess(t, map[string]string{"ADDR": "127.0.0.1:0", "DATA_DIR": t.TempDir(), "REDIS_URL": rsrv.URL()})
		runNewman(t, newman, base)
	})
}

// runNewman runs the collection against base.
func runNewman(t *testing.T, newman, base string) {
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, newman, "run", postmanCollection,
		"-e", postmanEnvironment,
		"--env-var", "baseUrl="+base,
		"--bail", "--reporters", "cli", "--color", "off")
	// --color off leaves colour in the failure table; FORCE_COLOR=0 does not.
	cmd.Env = append(os.Environ(), "FORCE_COLOR=0")
	cmd.WaitDelay = 10 * time.Second
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("newman did not finish in 3 minutes:\n%s", out)
	}
	if err != nil {
		t.Fatalf("newman run %s failed: %v\n%s", postmanCollection, err, out)
	}
	t.Logf("newman passed in %s", time.Since(start).Round(time.Millisecond))
}
