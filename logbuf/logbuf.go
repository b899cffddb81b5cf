// Package logbuf buffers the service's log lines in memory and writes them
// out in batches: a write(2) per request to standard output costs more than
// everything else the access log does. Lines reach the output within the
// flush interval, whenever the buffer fills, and at Close; a process killed
// with SIGKILL loses at most the last interval's lines, never a line half.
package logbuf

import (
	"io"
	"sync"
	"time"
)

// DefaultInterval is how often buffered lines are written out.
const DefaultInterval = 100 * time.Millisecond

// maxBuffered is how many bytes are held before a write flushes at once.
const maxBuffered = 64 << 10

// Writer is an io.Writer for whole lines, safe for concurrent use. Each
// Write must be whole lines (as slog handlers and the access log write):
// a Write is never split between two batches.
type Writer struct {
	out io.Writer

	mu  sync.Mutex // guards buf
	buf []byte

	flushMu sync.Mutex // serializes writes to out, so batches keep their order
	spare   []byte     // the buffer the last flush wrote, reused; under flushMu

	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// New returns a Writer that writes to out every interval (DefaultInterval
// when 0), until Close.
func New(out io.Writer, interval time.Duration) *Writer {
	if interval <= 0 {
		interval = DefaultInterval
	}
	w := &Writer{out: out, buf: make([]byte, 0, maxBuffered), stop: make(chan struct{}), done: make(chan struct{})}
	go w.run(interval)
	return w
}

func (w *Writer) run(interval time.Duration) {
	defer close(w.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			w.Flush()
		case <-w.stop:
			return
		}
	}
}

// Write buffers p. It never fails: an output that fails loses its lines,
// as an unbuffered log would, and the service goes on.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	full := len(w.buf)+len(p) > maxBuffered
	if !full {
		w.buf = append(w.buf, p...)
	}
	w.mu.Unlock()
	if full {
		// Write what is buffered, then p itself, in this order.
		w.flushMu.Lock()
		w.flushLocked()
		w.out.Write(p)
		w.flushMu.Unlock()
	}
	return len(p), nil
}

// Flush writes out what is buffered.
func (w *Writer) Flush() {
	w.flushMu.Lock()
	w.flushLocked()
	w.flushMu.Unlock()
}

// flushLocked swaps the buffer for the spare one and writes it out, so
// that writers wait only for the swap, not for the output. Call it with
// flushMu held.
func (w *Writer) flushLocked() {
	w.mu.Lock()
	batch := w.buf
	if w.spare == nil {
		w.spare = make([]byte, 0, maxBuffered)
	}
	w.buf, w.spare = w.spare[:0], nil
	w.mu.Unlock()
	if len(batch) > 0 {
		w.out.Write(batch) // a failing output loses these lines; nothing better to do with a log
	}
	w.spare = batch[:0]
}

// Close stops the periodic flush and writes out what is buffered. Writes
// after Close are still written, at the next Flush or Close.
func (w *Writer) Close() error {
	w.once.Do(func() {
		close(w.stop)
		<-w.done
	})
	w.Flush()
	return nil
}
