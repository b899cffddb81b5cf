//go:build linux

package e2e

// Helpers for the tests that run the real binary (soak_test.go,
// crash_test.go): build it once per test run from the repository root,
// start it on a data directory, read its address from the "listening" log
// line, kill or stop it, and read its memory from /proc.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"beerlocker/e2e/e2etest"
)

// TestMain only removes the binary built by beerlockerBinary after the
// run. It is the package's TestMain: extend it here rather than adding one.
func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	buildErr  error
)

// beerlockerBinary builds the service with `go build` in the repository
// root (once per test run) and returns the path of the executable.
func beerlockerBinary(t *testing.T) string {
	t.Helper()
	root := e2etest.RepoRoot(t)
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "beerlocker-bin-")
		if buildErr != nil {
			return
		}
		goTool, err := exec.LookPath("go")
		if err != nil {
			goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
		bin := filepath.Join(binDir, "beerlocker")
		start := time.Now()
		cmd := exec.Command(goTool, "build", "-o", bin, ".")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
			return
		}
		t.Logf("built %s in %s", bin, time.Since(start).Round(time.Millisecond))
		binPath = bin
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// testSecretKey is the SECRET_KEY of every binary the tests start.
const testSecretKey = "soak-and-crash-tests-secret-key-0123456789abcdef"

// binaryProc is one running beerlocker process.
type binaryProc struct {
	t    *testing.T
	cmd  *exec.Cmd
	Base string // http://127.0.0.1:port
	Addr string // 127.0.0.1:port

	mu     sync.Mutex
	stdout bytes.Buffer // the JSON log
	stderr bytes.Buffer

	done    chan struct{} // closed once the process has exited
	waitErr error
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// startBinary starts the binary with ADDR=127.0.0.1:0 on dataDir and waits
// until it listens and /healthz answers. extraEnv adds or overrides
// variables. The process is killed at the end of the test if still running.
func startBinary(t *testing.T, dataDir string, extraEnv map[string]string) *binaryProc {
	t.Helper()
	env := map[string]string{
		"ADDR":         "127.0.0.1:0",
		"METRICS_ADDR": "127.0.0.1:0",
		"DATA_DIR":     dataDir,
		"SECRET_KEY":   testSecretKey,
		"PATH":         os.Getenv("PATH"),
		"TMPDIR":       os.TempDir(),
	}
	for k, v := range extraEnv {
		env[k] = v
	}
	p := &binaryProc{t: t, done: make(chan struct{})}
	p.cmd = exec.Command(beerlockerBinary(t))
	for k, v := range env {
		p.cmd.Env = append(p.cmd.Env, k+"="+v)
	}
	// If the test binary dies, so does the server.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	p.cmd.Stderr = lockedWriter{&p.mu, &p.stderr}
	out, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addr := make(chan string, 1)
	go func() {
		// Read the log to EOF (so logging never blocks), then reap.
		r := bufio.NewReaderSize(out, 64<<10)
		found := false
		for {
			line, err := r.ReadBytes('\n')
			if len(line) > 0 {
				p.mu.Lock()
				p.stdout.Write(line)
				p.mu.Unlock()
				var l struct{ Msg, Addr string }
				if !found && json.Unmarshal(line, &l) == nil && l.Msg == "listening" {
					found = true
					addr <- l.Addr
				}
			}
			if err != nil {
				break
			}
		}
		p.waitErr = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	select {
	case a := <-addr:
		p.Addr = a
		p.Base = "http://" + a
	case <-p.done:
		t.Fatalf("beerlocker exited before listening (%v); stderr:\n%s", p.waitErr, p.Stderr())
	case <-time.After(90 * time.Second):
		t.Fatalf("beerlocker did not log \"listening\" in 90 s; stderr:\n%s", p.Stderr())
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(p.Base + "/healthz")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s/healthz never answered 200 (last error %v)", p.Base, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Pid is the process id.
func (p *binaryProc) Pid() int { return p.cmd.Process.Pid }

// Kill sends SIGKILL and waits for the process to be gone.
func (p *binaryProc) Kill() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		select {
		case <-p.done:
			p.t.Fatalf("beerlocker had already exited before SIGKILL: %v; stderr:\n%s", p.waitErr, p.Stderr())
		default:
			p.t.Fatalf("SIGKILL: %v", err)
		}
	}
	select {
	case <-p.done:
	case <-time.After(60 * time.Second):
		p.t.Fatal("beerlocker still running 60 s after SIGKILL")
	}
}

// Stop sends SIGTERM and waits for a clean exit.
func (p *binaryProc) Stop() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		p.t.Fatalf("SIGTERM: %v", err)
	}
	select {
	case <-p.done:
	case <-time.After(60 * time.Second):
		p.t.Fatal("beerlocker did not stop within 60 s of SIGTERM")
	}
	if p.waitErr != nil {
		p.t.Fatalf("beerlocker exited with %v after SIGTERM; stderr:\n%s", p.waitErr, p.Stderr())
	}
}

// Exited reports whether the process has exited on its own.
func (p *binaryProc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// RSS returns the resident set size in bytes from /proc/<pid>/status.
func (p *binaryProc) RSS() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.Pid()))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest) // "12345 kB"
			if len(f) >= 1 {
				kb, err := strconv.ParseInt(f[0], 10, 64)
				return kb << 10, err
			}
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", p.Pid())
}

// Stderr returns what the process wrote to standard error.
func (p *binaryProc) Stderr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// LogMessages returns the JSON log lines whose msg is msg, at most max.
func (p *binaryProc) LogMessages(msg string, max int) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, line := range strings.Split(p.stdout.String(), "\n") {
		var l struct{ Msg string }
		if json.Unmarshal([]byte(line), &l) == nil && l.Msg == msg && len(out) < max {
			out = append(out, line)
		}
	}
	return out
}

// LogLines returns the JSON log lines whose level is one of levels
// ("ERROR", "WARN"), at most max of them.
func (p *binaryProc) LogLines(levels []string, max int) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, line := range strings.Split(p.stdout.String(), "\n") {
		var l struct{ Level string }
		if json.Unmarshal([]byte(line), &l) != nil {
			continue
		}
		for _, lv := range levels {
			if l.Level == lv {
				out = append(out, line)
			}
		}
		if len(out) >= max {
			break
		}
	}
	return out
}

// apiClient is the client for the tests' own (well-behaved) calls.
var apiClient = &http.Client{
	Timeout: 90 * time.Second,
	Transport: &http.Transport{
		MaxIdleConns:        64,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     30 * time.Second,
	},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// apiCall sends one request and returns the status and body. header values
// are set as given; basic is "user:password" or "".
func apiCall(method, url, contentType, body string, header map[string]string) (int, []byte, http.Header, error) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := apiClient.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, b, resp.Header, fmt.Errorf("reading the body of %d: %w", resp.StatusCode, err)
	}
	return resp.StatusCode, b, resp.Header, nil
}

// basicAuth returns an Authorization header value.
func basicAuth(user, pass string) string {
	r, _ := http.NewRequest("GET", "http://x/", nil)
	r.SetBasicAuth(user, pass)
	return r.Header.Get("Authorization")
}

// mustAPICall is apiCall for setup steps: it fails the test unless the status
// is want, and returns the body.
func mustAPICall(t *testing.T, want int, method, url, contentType, body string, header map[string]string) []byte {
	t.Helper()
	st, b, _, err := apiCall(method, url, contentType, body, header)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	if st != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, url, st, want, b)
	}
	return b
}
