// Package sqlite implements Beer Locker's repositories on an embedded SQLite
// database, through the pure Go driver modernc.org/sqlite.
//
// The database is one file, beerlocker.db, in WAL mode with
// synchronous=FULL, so a commit is on disk before it returns and a crash
// loses no committed write. SQLite allows one writer at a time, so a Store
// keeps two connection pools: a writer of exactly one connection whose
// transactions begin IMMEDIATE, which serializes every write inside the
// process instead of letting them collide with SQLITE_BUSY, and a read-only
// pool of several connections, which WAL lets read alongside the writer.
//
// Errors are translated at this edge: a missing row is models.ErrNotFound, a
// UNIQUE or PRIMARY KEY violation is models.ErrConflict, a reference to a
// user or client that does not exist is models.ErrNotFound, and anything
// else is wrapped as "sqlite: <operation>: <cause>".
package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"beerlocker/models"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// FileName is the name of the database file Open keeps in its directory.
const FileName = "beerlocker.db"

// busyTimeout is how long, in milliseconds, a connection waits for a lock
// another process holds before it fails with SQLITE_BUSY. Inside one process
// the single writer connection means writers queue in database/sql instead.
const busyTimeout = 5000

// pragmas are set on every pooled connection, through the DSN, as each
// connection opens. busy_timeout comes first, so that switching to WAL can
// wait for a lock. synchronous=FULL fsyncs the WAL on every commit: the
// default for WAL (NORMAL) may lose the last commits on power loss.
var pragmas = []string{
	fmt.Sprintf("busy_timeout(%d)", busyTimeout),
	"journal_mode(WAL)",
	"synchronous(FULL)",
	"foreign_keys(ON)",
}

//go:embed migrations/*.sql
var migrations embed.FS

// Open opens (creating if missing) the database file beerlocker.db in dir
// (mkdir -p dir, 0700), applies migrations and returns the store.
func Open(ctx context.Context, dir string) (*models.Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	abs, err := filepath.Abs(filepath.Join(dir, FileName))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	if err := checkWritable(dir, abs); err != nil {
		return nil, err
	}
	d := &db{}
	// The writer comes first: it switches the file to WAL and migrates it
	// before any reader connects.
	d.w, err = openPool(ctx, abs, "_txlock=immediate", 1)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open writer: %w", err)
	}
	if err := d.migrate(ctx); err != nil {
		d.w.Close()
		return nil, err
	}
	if err := d.prepareWrites(ctx); err != nil {
		d.w.Close()
		return nil, fmt.Errorf("sqlite: open writer: %w", err)
	}
	// query_only makes a write sent to the read pool by mistake fail
	// instead of competing with the writer for the lock.
	d.r, err = openPool(ctx, abs, "_query_only=1", max(4, runtime.NumCPU()))
	if err != nil {
		d.w.Close()
		return nil, fmt.Errorf("sqlite: open reader: %w", err)
	}
	d.startWriter()
	return &models.Store{
		Users:    &users{d},
		Beers:    &beers{d},
		Clients:  &clients{d},
		Consents: &consents{d},
		Codes:    &codes{d},
		Tokens:   &tokens{d},
		DB:       d,

		DeviceCodes: &devices{d},
		Sessions:    &sessions{d},
		SigningKeys: &signingKeys{d},
		Revocations: &revocations{d},

		PersonalTokens: &personalTokens{d},
	}, nil
}

// checkWritable fails, with models.ErrUnavailable and the reason, when the
// directory or an existing database file cannot be written. SQLite would
// otherwise open a read-only file read-only without a word and fail later,
// on the first write, with a less helpful message. (As root, permission
// bits do not stop writes; a read-only or full filesystem still does.)
func checkWritable(dir, abs string) error {
	f, err := os.CreateTemp(dir, ".write-check-*")
	if err == nil {
		_, err = f.Write([]byte{0})
		err = errors.Join(err, f.Sync(), f.Close(), os.Remove(f.Name()))
	}
	if err != nil {
		return fmt.Errorf("sqlite: open: the data directory %s is not writable: %w: %w", dir, models.ErrUnavailable, err)
	}
	for _, name := range []string{abs, abs + "-wal", abs + "-shm"} {
		f, err := os.OpenFile(name, os.O_RDWR, 0)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err == nil {
			err = f.Close()
		}
		if err != nil {
			return fmt.Errorf("sqlite: open: the database file %s is not writable: %w: %w", name, models.ErrUnavailable, err)
		}
	}
	return nil
}

// dsn returns a file: URI for the database at abs, so that characters such
// as '?', '#' and '%' in the directory name are escaped rather than read as
// the start of the query, followed by the pragmas and extra parameters.
func dsn(abs, extra string) string {
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}
	q := make([]string, 0, len(pragmas)+1)
	for _, p := range pragmas {
		q = append(q, "_pragma="+url.QueryEscape(p))
	}
	q = append(q, extra)
	return u.String() + "?" + strings.Join(q, "&")
}

// openPool opens a pool of at most n connections and checks, on one of
// them, that the pragmas took effect.
func openPool(ctx context.Context, abs, extra string, n int) (*sql.DB, error) {
	pool, err := sql.Open("sqlite", dsn(abs, extra))
	if err != nil {
		return nil, err
	}
	pool.SetMaxOpenConns(n)
	pool.SetMaxIdleConns(n)
	// Connections live as long as the pool: opening one reruns the pragmas.
	pool.SetConnMaxLifetime(0)
	pool.SetConnMaxIdleTime(0)
	if err := checkPragmas(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}

// checkPragmas verifies the settings Open relies on, since a pragma SQLite
// does not understand, or cannot apply, is silently ignored.
func checkPragmas(ctx context.Context, pool *sql.DB) error {
	conn, err := pool.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	checks := []struct {
		pragma string
		want   string
	}{
		{"PRAGMA journal_mode", "wal"},
		{"PRAGMA synchronous", "2"}, // FULL
		{"PRAGMA foreign_keys", "1"},
		{"PRAGMA busy_timeout", fmt.Sprint(busyTimeout)},
	}
	for _, c := range checks {
		var got string
		if err := conn.QueryRowContext(ctx, c.pragma).Scan(&got); err != nil {
			return fmt.Errorf("%s: %w", c.pragma, err)
		}
		if !strings.EqualFold(got, c.want) {
			return fmt.Errorf("%s = %q, want %q", c.pragma, got, c.want)
		}
	}
	return nil
}

// migrate applies, in one transaction and in name order, every embedded
// migration not yet recorded in schema_migrations. The writer's IMMEDIATE
// transaction also serializes two processes opening the same new file.
//
// Foreign keys are off while the migrations run, on the one connection
// that runs them, so that a migration can rebuild a table (SQLite's
// ALTER TABLE procedure: create the new table, copy, drop the old one,
// rename): with them on, dropping a table deletes, by ON DELETE CASCADE,
// every row that refers to it. PRAGMA foreign_key_check then refuses to
// commit a schema that any row violates, and the connection gets its
// foreign keys back before it returns to the pool.
func (d *db) migrate(ctx context.Context) error {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	conn, err := d.w.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "PRAGMA foreign_keys = OFF"); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	err = migrateOn(ctx, conn, names)
	if _, ferr := conn.ExecContext(ctx, "PRAGMA foreign_keys = ON"); ferr != nil && err == nil {
		// The connection must not go back to the pool without them.
		conn.Raw(func(any) error { return driver.ErrBadConn })
		err = ferr
	}
	if err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	return nil
}

// migrateOn runs the migrations in one write transaction, which begins
// IMMEDIATE (the DSN's txlock) so that it holds the write lock from its
// first statement; it runs before the writer goroutine starts.
func migrateOn(ctx context.Context, conn *sql.Conn, names []string) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	const create = `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    TEXT PRIMARY KEY,
		applied_at INTEGER NOT NULL
	) STRICT`
	if _, err := tx.ExecContext(ctx, create); err != nil {
		return err
	}
	for _, name := range names {
		version := strings.TrimSuffix(path.Base(name), ".sql")
		var n int
		const applied = `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`
		if err := tx.QueryRowContext(ctx, applied, version).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			continue
		}
		script, err := migrations.ReadFile(name)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, string(script)); err != nil {
			return fmt.Errorf("%s: %w", version, err)
		}
		const record = `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`
		if _, err := tx.ExecContext(ctx, record, version, time.Now().UnixMilli()); err != nil {
			return err
		}
	}
	rows, err := tx.QueryContext(ctx, "PRAGMA foreign_key_check")
	if err != nil {
		return err
	}
	violated := rows.Next()
	rows.Close()
	if violated {
		return errors.New("a migration left rows that violate a foreign key")
	}
	return tx.Commit()
}

// db is the pair of pools behind a store. Every write goes to w, every plain
// read to r.
type db struct {
	w *sql.DB // one connection, used only by the writer goroutine; transactions begin IMMEDIATE
	r *sql.DB // query_only connections

	stmts       sync.Map       // query → *sql.Stmt on the reader pool
	insertToken *sql.Stmt      // on the writer (prepareWrites)
	queue       chan *writeReq // writes waiting for the next group commit
	closing     chan struct{}
	closeOnce   sync.Once // Close may be called more than once
	stopped     chan struct{}
}

var _ models.Database = (*db)(nil)

// Ping returns nil when both pools answer.
func (d *db) Ping(ctx context.Context) error {
	if err := d.w.PingContext(ctx); err != nil {
		return translate("ping", err)
	}
	if err := d.r.PingContext(ctx); err != nil {
		return translate("ping", err)
	}
	return nil
}

// Close closes both pools. The last connection to close checkpoints the WAL
// into the database file.
func (d *db) Close() error {
	d.stopWriter()
	d.stmts.Range(func(_, s any) bool { s.(*sql.Stmt).Close(); return true })
	if d.insertToken != nil {
		d.insertToken.Close()
	}
	err := errors.Join(d.r.Close(), d.w.Close())
	if err != nil {
		return fmt.Errorf("sqlite: close: %w", err)
	}
	return nil
}

// sweepBatch bounds one DELETE of the sweep. Expired rows can pile up by
// the hundred thousand (tokens after a bulk load, or after downtime), and
// one statement deleting them all holds the only writer, and so every
// write queued behind it, for as long as it runs: a beer's POST waited
// 26 s behind the sweep of 5·10^5 tokens on the bench machine. A batch
// per transaction lets the writes that queue meanwhile go between the
// batches: the longest wait was then 0.65 s, the median 54 ms.
const sweepBatch = 500

// deleteExpired deletes the rows of table (a rowid table with an
// expires_at index) that expired before now, in batches, and returns how
// many.
func (d *db) deleteExpired(ctx context.Context, op, table string, now int64) (int64, error) {
	q := `DELETE FROM ` + table + ` WHERE rowid IN
		(SELECT rowid FROM ` + table + ` WHERE expires_at < ? LIMIT ` + strconv.Itoa(sweepBatch) + `)`
	var total int64
	for {
		res, err := d.exec(ctx, q, now)
		if err != nil {
			return total, translate(op, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, translate(op, err)
		}
		total += n
		if n < sweepBatch {
			return total, nil
		}
		if afterSweepBatch != nil {
			afterSweepBatch()
		}
	}
}

// afterSweepBatch, when set (by tests), runs between two batches of a
// sweep, while the writer is free.
var afterSweepBatch func()

// translate maps a database error to the models' sentinels, or wraps it
// with the operation that failed.
func translate(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return models.ErrNotFound
	}
	if errors.Is(err, models.ErrNotFound) || errors.Is(err, models.ErrConflict) || errors.Is(err, models.ErrUnavailable) {
		return err
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return models.ErrConflict
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			// The user or client the row refers to does not exist.
			return models.ErrNotFound
		}
		if unavailableCodes[se.Code()&0xff] {
			return fmt.Errorf("sqlite: %s: %w: %w", op, models.ErrUnavailable, err)
		}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		// The write queue did not take the write before the caller's deadline.
		return fmt.Errorf("sqlite: %s: %w: %w", op, models.ErrUnavailable, err)
	}
	return fmt.Errorf("sqlite: %s: %w", op, err)
}

// unavailableCodes are the primary result codes that mean the files cannot
// be used right now rather than that the request is wrong: another process
// held the lock past busy_timeout, the file or its filesystem is
// read-only, the disk is full, or the I/O failed. The extended code (such
// as SQLITE_IOERR_WRITE) stays in the wrapped error.
var unavailableCodes = map[int]bool{
	sqlite3.SQLITE_BUSY:     true,
	sqlite3.SQLITE_READONLY: true,
	sqlite3.SQLITE_FULL:     true,
	sqlite3.SQLITE_IOERR:    true,
	sqlite3.SQLITE_CANTOPEN: true,
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

// millis is how times are stored: Unix milliseconds, UTC.
func millis(t time.Time) int64 { return t.UnixMilli() }

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// joinScopes and splitScopes store a scope list as one space-separated
// string, the form of the OAuth scope parameter (RFC 6749 §3.3).
func joinScopes(s []string) string { return strings.Join(s, " ") }

func splitScopes(s string) []string { return strings.Fields(s) }

// nullableMillis stores the zero time as NULL.
func nullableMillis(t time.Time) sql.NullInt64 {
	return sql.NullInt64{Int64: millis(t), Valid: !t.IsZero()}
}

// nullable stores "" as NULL.
func nullable(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

// rowsAffected returns ErrNotFound when an UPDATE or DELETE matched nothing.
func rowsAffected(res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return models.ErrNotFound
	}
	return nil
}

// withLimit is the LIMIT clause for n rows, written into the SQL rather
// than bound. SQLite lets a bound LIMIT shape the plan (the planner reads
// its value through sqlite3ExprIsInteger), which marks the statement as
// depending on that binding: every new binding then expires it, and the
// next step parses and plans the statement again, as if it had never been
// prepared. Each distinct limit is its own prepared statement instead, and
// the callers use only a bounded set of them.
func withLimit(n int) string { return " LIMIT " + strconv.Itoa(n) }

// stmt returns the read statement for query, prepared once on the reader
// pool (database/sql then prepares it on each connection as it is used),
// so that the reads on every request skip SQLite's parser and planner.
func (d *db) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if s, ok := d.stmts.Load(query); ok {
		return s.(*sql.Stmt), nil
	}
	s, err := d.r.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if prev, loaded := d.stmts.LoadOrStore(query, s); loaded {
		s.Close()
		return prev.(*sql.Stmt), nil
	}
	return s, nil
}

// prepareWrites prepares, on the writer's one connection, the statements
// of the hot writes (issuing a token), so that they skip SQLite's parser,
// which a statement prepared per transaction runs each time. It runs
// before the writer goroutine starts: once it runs, the connection is in a
// transaction whenever a write needs a statement.
func (d *db) prepareWrites(ctx context.Context) error {
	var err error
	d.insertToken, err = d.w.PrepareContext(ctx, insertTokenSQL)
	return err
}

// query runs a read through a prepared statement.
func (d *db) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	s, err := d.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(ctx, args...)
}

// queryRow runs a one-row read through a prepared statement.
func (d *db) queryRow(ctx context.Context, query string, args ...any) scanner {
	s, err := d.stmt(ctx, query)
	if err != nil {
		return errRow{err}
	}
	return s.QueryRowContext(ctx, args...)
}

// errRow is a row that carries a prepare error.
type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }
