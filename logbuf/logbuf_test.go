package logbuf_test

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"beerlocker/logbuf"
)

// syncBuffer records what reaches the output, and in how many writes.
type syncBuffer struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	writes int
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.writes++
	return b.buf.Write(p)
}

func (b *syncBuffer) snapshot() (string, int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String(), b.writes
}

func TestLinesArriveWithinTheInterval(t *testing.T) {
	out := &syncBuffer{}
	w := logbuf.New(out, 20*time.Millisecond)
	defer w.Close()
	for i := range 100 {
		fmt.Fprintf(w, "line %d\n", i)
	}
	if got, _ := out.snapshot(); got != "" {
		t.Errorf("lines reached the output at once: %q", got)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, writes := out.snapshot()
		if strings.Count(got, "\n") == 100 {
			if writes > 5 {
				t.Errorf("100 lines took %d writes, want them batched", writes)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 5 s the output holds %d of 100 lines", strings.Count(got, "\n"))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestCloseFlushes(t *testing.T) {
	out := &syncBuffer{}
	w := logbuf.New(out, time.Hour)
	w.Write([]byte("last words\n"))
	w.Close()
	if got, _ := out.snapshot(); got != "last words\n" {
		t.Errorf("after Close the output is %q", got)
	}
	w.Write([]byte("after close\n"))
	w.Close()
	if got, _ := out.snapshot(); !strings.HasSuffix(got, "after close\n") {
		t.Errorf("a write after Close is lost: %q", got)
	}
}

// Concurrent writers: every line arrives whole and once, and each
// writer's lines keep their order, across buffer-full flushes.
func TestConcurrentWritersKeepLinesWhole(t *testing.T) {
	out := &syncBuffer{}
	w := logbuf.New(out, time.Millisecond)
	const writers, lines = 8, 5000
	pad := strings.Repeat("x", 100)
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			for i := range lines {
				fmt.Fprintf(w, "%d %d %s\n", g, i, pad)
			}
		})
	}
	wg.Wait()
	w.Close()
	got, _ := out.snapshot()
	next := make([]int, writers)
	n := 0
	for _, line := range strings.Split(strings.TrimSuffix(got, "\n"), "\n") {
		var g, i int
		var p string
		if _, err := fmt.Sscanf(line, "%d %d %s", &g, &i, &p); err != nil || p != pad {
			t.Fatalf("line %q is not whole (%v)", line, err)
		}
		if i != next[g] {
			t.Fatalf("writer %d: line %d after %d", g, i, next[g]-1)
		}
		next[g]++
		n++
	}
	if n != writers*lines {
		t.Errorf("%d lines arrived, want %d", n, writers*lines)
	}
}
