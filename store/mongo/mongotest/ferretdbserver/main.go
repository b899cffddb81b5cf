// Command ferretdbserver runs FerretDB with the SQLite handler for tests:
// mongotest starts it as a child process, built without the race detector,
// so that a test binary built with -race does not run the database under
// the detector too (which makes it several times slower). It prints the
// server's MongoDB URI on a line of its own once it listens, and stops on
// SIGTERM, on an interrupt, or when its standard input closes (the test
// process that started it is gone).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "TCP address to listen on")
	sqliteURL := flag.String("sqlite-url", "", "FerretDB's SQLite URL: file:<existing directory>/[?params]")
	flag.Parse()

	logger := slog.New(quietHandler{slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})})
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listen},
		Handler:   "sqlite",
		SQLiteURL: *sqliteURL,
		Logger:    logger,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "ferretdbserver:", err)
		os.Exit(1)
	}
	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer cancel()
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	fmt.Println(f.MongoDBURI()) // waits until the listener is bound
	if err := <-done; err != nil && ctx.Err() == nil {
		fmt.Fprintln(os.Stderr, "ferretdbserver:", err)
		os.Exit(1)
	}
}

// quietHandler drops FerretDB's dumps of error replies, as mongotest's
// in-process logger does.
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
