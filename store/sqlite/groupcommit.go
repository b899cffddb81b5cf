package sqlite

import (
	"context"
	"database/sql"
	"errors"
)

// Group commit. With synchronous=FULL every commit waits for an fsync of
// the WAL, and SQLite has one writer, so one write per commit caps the
// service at a few hundred writes a second however many requests wait. So
// writes are queued to one goroutine that runs every write waiting at that
// moment in one transaction, each inside its own SAVEPOINT, and commits
// once: N concurrent writes share one fsync, and each still succeeds or
// fails on its own. Nobody is told a write succeeded before the commit
// that holds it is durable.

// maxGroup bounds how many writes share one commit, so that one slow group
// cannot hold the lock for long.
const maxGroup = 128

var errClosed = errors.New("sqlite: store is closed")

// writeReq is one write waiting for the next group commit.
type writeReq struct {
	ctx  context.Context
	fn   func(tx *sql.Tx) error
	done chan error
}

// startWriter starts the goroutine that owns the writer connection.
func (d *db) startWriter() {
	d.queue = make(chan *writeReq, maxGroup)
	d.closing = make(chan struct{})
	d.stopped = make(chan struct{})
	go d.writeLoop()
}

// stopWriter answers every queued write with errClosed and waits for the
// writer goroutine to finish the group it is committing.
func (d *db) stopWriter() {
	d.closeOnce.Do(func() { close(d.closing) })
	<-d.stopped
}

// tx runs fn in a write transaction and returns once its commit is
// durable. fn runs at most once; it must not call tx itself. If ctx ends
// before fn starts, fn does not run and ctx's error is returned.
func (d *db) tx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	req := &writeReq{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case d.queue <- req:
	case <-ctx.Done():
		return ctx.Err()
	case <-d.closing:
		return errClosed
	}
	// Once queued, wait for the answer even if ctx ends: the write may
	// already be committing, and the caller must not guess.
	return <-req.done
}

// exec runs one statement as a write.
func (d *db) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	var res sql.Result
	err := d.tx(ctx, func(tx *sql.Tx) error {
		var err error
		res, err = tx.ExecContext(ctx, query, args...)
		return err
	})
	return res, err
}

func (d *db) writeLoop() {
	defer close(d.stopped)
	group := make([]*writeReq, 0, maxGroup)
	for {
		select {
		case req := <-d.queue:
			group = append(group[:0], req)
		case <-d.closing:
			d.drain()
			return
		}
	fill:
		for len(group) < maxGroup {
			select {
			case req := <-d.queue:
				group = append(group, req)
			default:
				break fill
			}
		}
		d.commitGroup(group)
	}
}

// drain answers the writes still queued at close.
func (d *db) drain() {
	for {
		select {
		case req := <-d.queue:
			req.done <- errClosed
		default:
			return
		}
	}
}

// commitGroup runs the group in one transaction. A write that fails is
// rolled back to its savepoint alone; if the commit fails, every write of
// the group fails.
func (d *db) commitGroup(group []*writeReq) {
	errs := make([]error, len(group))
	err := d.runGroup(group, errs)
	for i, req := range group {
		if errs[i] == nil {
			errs[i] = err
		}
		req.done <- errs[i]
	}
}

func (d *db) runGroup(group []*writeReq, errs []error) error {
	tx, err := d.w.BeginTx(context.Background(), nil)
	if err != nil {
		return err
	}
	if len(group) == 1 { // the common case when idle: no savepoint needed
		if errs[0] = runOne(group[0], tx); errs[0] != nil {
			return tx.Rollback()
		}
		return tx.Commit()
	}
	for i, req := range group {
		if _, err := tx.Exec("SAVEPOINT w"); err != nil {
			tx.Rollback()
			return err
		}
		if errs[i] = runOne(req, tx); errs[i] != nil {
			if _, err := tx.Exec("ROLLBACK TO w"); err != nil {
				tx.Rollback()
				return err
			}
		}
		if _, err := tx.Exec("RELEASE w"); err != nil {
			tx.Rollback()
			return err
		}
	}
	return tx.Commit()
}

// runOne runs one write unless its caller has already given up.
func runOne(req *writeReq, tx *sql.Tx) error {
	if err := req.ctx.Err(); err != nil {
		return err
	}
	return req.fn(tx)
}
