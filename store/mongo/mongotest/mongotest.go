// Package mongotest gives tests a MongoDB to talk to: a FerretDB (SQLite
// under t.TempDir(), run by the test itself, nothing to install), or the
// real MongoDB named by MONGODB_TEST_URI. Store opens a fresh, uniquely named
// database on it for one test and drops it afterwards.
package mongotest

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"beerlocker/models"
	mongostore "beerlocker/store/mongo"
)

// EnvURI names the environment variable that points tests at a real MongoDB.
const EnvURI = "MONGODB_TEST_URI"

// newMu serializes ferretdb.New, which sets the process-wide
// version.Get().Package without a lock (ferretdb.go:92 in v1.24.0): two
// parallel tests starting servers are otherwise a data race under -race.
var newMu sync.Mutex

// sqliteParams are the test server's SQLite settings. synchronous(OFF)
// skips the fsync of every commit: a test database need not survive a
// power cut, and the fsyncs, not the work, would otherwise bound how many
// operations a second the conformance suite's races get through
// (FerretDB's own busy_timeout and WAL defaults still apply).
const sqliteParams = "?_pragma=synchronous(OFF)"

// Start runs FerretDB with the SQLite handler in a temporary directory,
// listening on a free port of 127.0.0.1, and returns its URI. The server
// stops when the test and its subtests are done. FerretDB logs only
// warnings and errors, to the test's log.
//
// The server is a child process (see ferretdbserver), built once per test
// process without the race detector; where it cannot be built (no go
// command), FerretDB runs inside the test process instead.
func Start(t testing.TB) (uri string) {
	t.Helper()
	return StartControlled(t).URI()
}

// Server is a FerretDB a test can stop and start again, on the same address
// and data directory, to play a database outage. Stop it and Start it from
// one goroutine at a time.
type Server struct {
	t    testing.TB
	logs *testWriter
	addr string // 127.0.0.1:port, fixed by the first start
	dir  string // the SQLite handler's data directory, kept across restarts
	uri  string

	// A child process, or else an in-process server.
	cmd    *exec.Cmd
	stdin  io.Closer
	cancel context.CancelFunc
	done   chan struct{}
}

// StartControlled starts FerretDB as Start does, but returns a handle whose
// Stop and Start play an outage and the recovery from it. The server stops
// when the test is done.
func StartControlled(t testing.TB) *Server {
	t.Helper()
	s := &Server{t: t, logs: &testWriter{t: t, prefix: "FerretDB: "}, addr: "127.0.0.1:0", dir: t.TempDir()}
	t.Cleanup(func() {
		s.Stop()
		s.logs.stop()
	})
	s.Start()
	return s
}

// URI is the server's MongoDB URI; it does not change across restarts.
func (s *Server) URI() string { return s.uri }

// Start starts the server if it is stopped, on the address and data
// directory it had, and returns once it listens.
func (s *Server) Start() {
	s.t.Helper()
	if s.cmd != nil || s.cancel != nil {
		return
	}
	bin, buildErr := serverBinary()
	if buildErr != nil {
		s.t.Logf("mongotest: cannot build ferretdbserver; running FerretDB in the test process: %v", buildErr)
	}
	var err error
	// The port of a stopped server is normally free at once; allow a
	// moment for the old listener to let go of it.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if bin != "" {
			err = s.startProcess(bin)
		} else {
			err = s.startInProcess()
		}
		if err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		s.t.Fatalf("mongotest: start FerretDB on %s: %v", s.addr, err)
	}
	if s.addr == "127.0.0.1:0" {
		u, err := url.Parse(s.uri)
		if err != nil {
			s.t.Fatalf("mongotest: parse FerretDB URI %q: %v", s.uri, err)
		}
		s.addr = u.Host
	}
}

func (s *Server) sqliteURL() string { return "file:" + s.dir + "/" + sqliteParams }

// startProcess runs the server as a child process and waits for its URI.
func (s *Server) startProcess(bin string) error {
	cmd := exec.Command(bin, "-listen", s.addr, "-sqlite-url", s.sqliteURL())
	cmd.Stderr = s.logs
	stdin, err := cmd.StdinPipe() // closing it, or dying, stops the child
	if err != nil {
		return err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			line <- sc.Text()
		}
		close(line)
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case uri, ok := <-line:
		if ok && strings.HasPrefix(uri, "mongodb://") {
			s.cmd, s.stdin, s.uri = cmd, stdin, uri
			return nil
		}
	case <-time.After(60 * time.Second):
	}
	_ = cmd.Process.Kill()
	return fmt.Errorf("ferretdbserver did not start: %v", cmd.Wait())
}

// startInProcess runs the server in a goroutine of the test process.
func (s *Server) startInProcess() error {
	logger := slog.New(quietHandler{slog.NewTextHandler(s.logs, &slog.HandlerOptions{Level: slog.LevelWarn})})
	newMu.Lock()
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: s.addr},
		Handler:   "sqlite",
		SQLiteURL: s.sqliteURL(),
		Logger:    logger,
	})
	newMu.Unlock()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = f.Run(ctx)
	}()
	s.cancel, s.done = cancel, done
	s.uri = f.MongoDBURI() // waits until the listener is bound
	return nil
}

// Stop stops the server and waits for it to be gone: a child process is
// killed (SIGKILL, as a crashed database would be), an in-process server
// closes its listener and connections. The data stays for the next Start.
func (s *Server) Stop() {
	s.t.Helper()
	switch {
	case s.cmd != nil:
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
		_ = s.stdin.Close()
		s.cmd, s.stdin = nil, nil
	case s.cancel != nil:
		s.cancel()
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			s.t.Errorf("mongotest: FerretDB did not stop within 10s")
		}
		s.cancel, s.done = nil, nil
	}
}

var (
	buildOnce sync.Once
	builtPath string
	buildErr  error
)

// serverBinary builds ferretdbserver without the race detector, once per
// test process, and returns its path, or why it cannot be built. Each
// process builds into a file of its own and renames it into place, so
// test binaries of several packages running at once never see a partial
// file; the build cache makes every build after the first a link.
func serverBinary() (string, error) {
	buildOnce.Do(func() {
		gocmd, err := exec.LookPath("go")
		if err != nil {
			gocmd = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
		dir := filepath.Join(os.TempDir(), "beerlocker-mongotest")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			buildErr = err
			return
		}
		tmp := filepath.Join(dir, fmt.Sprintf("ferretdbserver.%d", os.Getpid()))
		cmd := exec.Command(gocmd, "build", "-o", tmp, "beerlocker/store/mongo/mongotest/ferretdbserver")
		cmd.Env = append(os.Environ(), "GOFLAGS=") // no -race from the environment
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("%w\n%s", err, out)
			_ = os.Remove(tmp)
			return
		}
		final := filepath.Join(dir, "ferretdbserver")
		if err := os.Rename(tmp, final); err != nil {
			buildErr = err
			_ = os.Remove(tmp)
			return
		}
		builtPath = final
	})
	return builtPath, buildErr
}

// URI returns MONGODB_TEST_URI when it is set, so tests run against a real
// MongoDB, and otherwise starts an in-process FerretDB with Start.
func URI(t testing.TB) string {
	t.Helper()
	if uri := os.Getenv(EnvURI); uri != "" {
		return uri
	}
	return Start(t)
}

// DatabaseName returns a database name no other test uses.
func DatabaseName() string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		panic("mongotest: crypto/rand failed: " + err.Error())
	}
	return "beerlocker_test_" + hex.EncodeToString(b)
}

// Store opens a store on a fresh, uniquely named database of the server at
// uri, logging to the test's log, and on t.Cleanup closes it and drops the
// database.
func Store(t testing.TB, uri string) *models.Store {
	t.Helper()
	name := DatabaseName()
	logs := &testWriter{t: t, prefix: "mongo store: "}
	log := slog.New(slog.NewTextHandler(logs, nil))
	s, err := mongostore.Open(context.Background(), uri, name, mongostore.Options{Log: log})
	if err != nil {
		t.Fatalf("mongotest: open %s: %v", name, err)
	}
	t.Cleanup(func() {
		defer logs.stop()
		if err := s.Close(); err != nil {
			t.Errorf("mongotest: %v", err)
		}
		if err := DropDatabase(uri, name); err != nil {
			t.Errorf("mongotest: %v", err)
		}
	})
	return s
}

// DropDatabase drops the named database of the server at uri.
func DropDatabase(uri, name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		return err
	}
	defer func() { _ = c.Disconnect(ctx) }()
	return c.Database(name).Drop(ctx)
}

// quietHandler drops FerretDB's dumps of error replies ("Response header",
// "Response message"), which it logs at warn level for every command that
// fails, such as a duplicate key the store expects, or the endSessions the
// driver sends on disconnect. The client gets those errors anyway.
type quietHandler struct{ slog.Handler }

func (h quietHandler) Handle(ctx context.Context, r slog.Record) error {
	if strings.HasPrefix(r.Message, "Response ") {
		return nil
	}
	return h.Handler.Handle(ctx, r)
}

func (h quietHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return quietHandler{h.Handler.WithAttrs(attrs)}
}

func (h quietHandler) WithGroup(name string) slog.Handler {
	return quietHandler{h.Handler.WithGroup(name)}
}

// testWriter writes log lines to the test's log, after prefix, until the
// test is over; after that (a server goroutine still shutting down) they
// are dropped, because testing panics on a Log after the test has
// completed.
type testWriter struct {
	mu      sync.Mutex
	t       testing.TB
	prefix  string
	stopped bool
}

var _ io.Writer = (*testWriter)(nil)

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.stopped {
		w.t.Log(w.prefix + strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

func (w *testWriter) stop() {
	w.mu.Lock()
	w.stopped = true
	w.mu.Unlock()
}
