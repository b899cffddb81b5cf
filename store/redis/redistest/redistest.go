// Package redistest gives tests a real Redis to talk to: a redis-server
// (Debian package redis-server, installed by scripts/tools.sh) started by
// the test on a free loopback port, with its files in t.TempDir(), and
// stopped when the test is done.
package redistest

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// Binary is the server the tests run.
const Binary = "redis-server"

// Server is one redis-server process. Stop and Start play an outage: the
// server comes back on the same address, empty (it keeps nothing on disk,
// as the tests ask nothing of persistence). Call them from one goroutine
// at a time.
type Server struct {
	t    testing.TB
	addr string // 127.0.0.1:port, fixed by the first start
	dir  string
	cmd  *exec.Cmd
	done chan struct{}
}

// Start runs a redis-server for the test and returns it. Without the
// binary the test is skipped, or fails when BEERLOCKER_REQUIRE_TOOLS=1
// (make test), so CI cannot go green without Redis.
func Start(t testing.TB) *Server {
	t.Helper()
	if _, err := exec.LookPath(Binary); err != nil {
		if os.Getenv("BEERLOCKER_REQUIRE_TOOLS") == "1" {
			t.Fatalf("%s not found (BEERLOCKER_REQUIRE_TOOLS=1): run scripts/tools.sh to install it", Binary)
		}
		t.Skipf("%s not found: run scripts/tools.sh to install it (set BEERLOCKER_REQUIRE_TOOLS=1 to fail instead)", Binary)
	}
	s := &Server{t: t, dir: t.TempDir()}
	// A port picked by listening on :0 may be taken again before the
	// server binds it; a few tries make that race harmless.
	var err error
	for range 5 {
		if s.addr, err = freePort(); err != nil {
			continue
		}
		if err = s.start(); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("redistest: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return s.addr }

// URL is the server's redis:// URL, as REDIS_URL takes it.
func (s *Server) URL() string { return "redis://" + s.addr + "/0" }

// Start starts a stopped server again on its address.
func (s *Server) Start() {
	s.t.Helper()
	var err error
	for range 50 { // the old socket may linger a moment after Stop
		if err = s.start(); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.t.Fatalf("redistest: restart: %v", err)
}

// Stop kills the server and waits for it to exit. Stopping a stopped
// server does nothing.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.done
	s.cmd = nil
}

func (s *Server) start() error {
	host, port, _ := net.SplitHostPort(s.addr)
	cmd := exec.Command(Binary,
		"--bind", host, "--port", port,
		"--dir", s.dir,
		"--save", "", "--appendonly", "no",
		"--protected-mode", "yes",
		"--loglevel", "warning", "--logfile", "")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", Binary, err)
	}
	done := make(chan struct{})
	lines := make(chan string, 64)
	go func() {
		defer close(done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default: // nobody reads the log once the server is up
			}
		}
		_ = cmd.Wait()
	}()
	if err := waitReady(s.addr, done); err != nil {
		_ = cmd.Process.Kill()
		<-done
		var log []string
		for len(lines) > 0 {
			log = append(log, <-lines)
		}
		return fmt.Errorf("%s on %s: %w\n%s", Binary, s.addr, err, strings.Join(log, "\n"))
	}
	s.cmd, s.done = cmd, done
	return nil
}

// waitReady waits until the server answers PING, or exits.
func waitReady(addr string, exited <-chan struct{}) error {
	c := goredis.NewClient(&goredis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("exited")
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("no answer to PING within 10s")
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return "127.0.0.1:" + strconv.Itoa(l.Addr().(*net.TCPAddr).Port), nil
}

// Prefix returns a fresh key prefix, so that tests sharing one server
// each see an empty keyspace of their own.
func Prefix() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "t" + hex.EncodeToString(b) + ":"
}
