// Package mongotest gives tests a MongoDB to talk to: an in-process
// FerretDB (SQLite under t.TempDir(), no other process needed), or the real
// MongoDB named by MONGODB_TEST_URI. Store opens a fresh, uniquely named
// database on it for one test and drops it afterwards.
package mongotest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"os"
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

// Start runs an in-process FerretDB with the SQLite handler in a temporary
// directory, listening on a free port of 127.0.0.1, and returns its URI.
// The server stops when the test and its subtests are done. FerretDB logs
// only warnings and errors, to the test's log.
func Start(t testing.TB) (uri string) {
	t.Helper()
	logs := &testWriter{t: t}
	logger := slog.New(quietHandler{slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn})})

	newMu.Lock()
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: "127.0.0.1:0"},
		Handler:   "sqlite",
		SQLiteURL: "file:" + t.TempDir() + "/",
		Logger:    logger,
	})
	newMu.Unlock()
	if err != nil {
		t.Fatalf("mongotest: start FerretDB: %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = f.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Errorf("mongotest: FerretDB did not stop within 10s")
		}
		logs.stop()
	})
	// MongoDBURI waits until the listener is bound.
	return f.MongoDBURI()
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
// uri, and on t.Cleanup closes it and drops the database.
func Store(t testing.TB, uri string) *models.Store {
	t.Helper()
	name := DatabaseName()
	s, err := mongostore.Open(context.Background(), uri, name)
	if err != nil {
		t.Fatalf("mongotest: open %s: %v", name, err)
	}
	t.Cleanup(func() {
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

// testWriter writes log lines to the test's log until the test is over;
// after that (a server goroutine still shutting down) they are dropped,
// because testing panics on a Log after the test has completed.
type testWriter struct {
	mu      sync.Mutex
	t       testing.TB
	stopped bool
}

var _ io.Writer = (*testWriter)(nil)

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.stopped {
		w.t.Log("FerretDB: " + strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

func (w *testWriter) stop() {
	w.mu.Lock()
	w.stopped = true
	w.mu.Unlock()
}
