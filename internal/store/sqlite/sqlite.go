package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/vaxport/vaxport/internal/vax"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

const (
	// busyTimeout is how long a connection waits for another connection's
	// lock before SQLite reports SQLITE_BUSY.
	busyTimeout = 5 * time.Second
	// attempts is how many times InTx and View run a transaction that
	// found the database locked.
	attempts = 4
	// firstBackoff is the pause before the second attempt; it doubles.
	firstBackoff = 20 * time.Millisecond
	// versionTable is goose's bookkeeping table.
	versionTable = "goose_db_version"
)

// Options configure a Store.
type Options struct {
	// Clock stamps changes and session updates; nil means vax.SystemClock.
	Clock vax.Clock
}

// Store is the SQLite vax.Store. Its methods are safe for concurrent use.
type Store struct {
	writer *sql.DB // one connection: SQLite has one writer at a time
	reader *sql.DB // query-only connections for View, Changes, Ping
	clock  vax.Clock
	goose  *goose.Provider
	latest int64 // newest migration version embedded

	mu     sync.Mutex // guards closed and sends on wake
	closed bool
	wake   chan struct{}
}

var _ vax.Store = (*Store)(nil)

// Open opens the SQLite database at path, creating the file if absent. It
// does not migrate: call Migrate.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	if path == "" || strings.Contains(path, "?") || strings.Contains(path, ":memory:") || strings.HasPrefix(path, "file:") {
		return nil, vax.Errorf(vax.Invalid, "sqlite: database path %q must be a plain file path", path)
	}
	clock := opts.Clock
	if clock == nil {
		clock = vax.SystemClock{}
	}
	common := url.Values{}
	common.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	common.Add("_pragma", "foreign_keys(1)")

	w := cloneValues(common)
	w.Add("_pragma", "journal_mode(WAL)")
	w.Add("_pragma", "synchronous(NORMAL)")
	w.Set("_txlock", "immediate")
	writer, err := sql.Open("sqlite", path+"?"+w.Encode())
	if err != nil {
		return nil, vax.Wrap(vax.Internal, err, "sqlite: open writer")
	}
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxLifetime(0)
	writer.SetConnMaxIdleTime(0)
	// Connect the writer first: it creates the file and switches it to WAL
	// (a persistent setting) before any reader connects.
	if err := writer.PingContext(ctx); err != nil {
		writer.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, dbErr(err, "open database"))
	}

	r := cloneValues(common)
	r.Set("_query_only", "1")
	reader, err := sql.Open("sqlite", path+"?"+r.Encode())
	if err != nil {
		writer.Close()
		return nil, vax.Wrap(vax.Internal, err, "sqlite: open readers")
	}
	n := max(4, runtime.GOMAXPROCS(0))
	reader.SetMaxOpenConns(n)
	reader.SetMaxIdleConns(n)
	if err := reader.PingContext(ctx); err != nil {
		writer.Close()
		reader.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, dbErr(err, "open readers"))
	}

	s := &Store{writer: writer, reader: reader, clock: clock, wake: make(chan struct{}, 1)}
	if err := s.initGoose(); err != nil {
		writer.Close()
		reader.Close()
		return nil, err
	}
	return s, nil
}

func cloneValues(v url.Values) url.Values {
	c := url.Values{}
	for k, vs := range v {
		c[k] = append([]string(nil), vs...)
	}
	return c
}

func (s *Store) initGoose() error {
	fsys, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return vax.Wrap(vax.Internal, err, "sqlite: embedded migrations")
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, s.writer, fsys,
		goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return vax.Wrap(vax.Internal, err, "sqlite: load migrations")
	}
	for _, src := range p.ListSources() {
		s.latest = max(s.latest, src.Version)
	}
	s.goose = p
	return nil
}

// Migrate applies the embedded migrations not yet applied. It is
// idempotent.
func (s *Store) Migrate(ctx context.Context) error {
	if _, err := s.goose.Up(ctx); err != nil {
		return vax.Wrap(vax.Internal, err, "sqlite: migrate")
	}
	return nil
}

// Migrations reports the schema version applied (0 before the first
// migration) and the latest embedded. It only reads.
func (s *Store) Migrations(ctx context.Context) (current, latest int64, err error) {
	var n int
	err = s.reader.QueryRowContext(ctx,
		`SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?`, versionTable).Scan(&n)
	if err != nil {
		return 0, 0, fmt.Errorf("sqlite: migrations: %w", dbErr(err, "read schema version"))
	}
	if n > 0 {
		var v sql.NullInt64
		err = s.reader.QueryRowContext(ctx,
			`SELECT max(version_id) FROM `+versionTable+` WHERE is_applied`).Scan(&v)
		if err != nil {
			return 0, 0, fmt.Errorf("sqlite: migrations: %w", dbErr(err, "read schema version"))
		}
		current = v.Int64
	}
	return current, s.latest, nil
}

// InTx runs fn in a read-write transaction (BEGIN IMMEDIATE on the one
// writer connection) and commits if fn returns nil, returning fn's error
// unchanged otherwise. If the database was locked by another process past
// the busy timeout the transaction is retried. fn must not call InTx or
// View itself: the writer connection is held while it runs.
func (s *Store) InTx(ctx context.Context, fn func(vax.Tx) error) error {
	return s.retry(ctx, func() error { return s.run(ctx, s.writer, false, fn) })
}

// View runs fn in a read-only transaction on a reader connection; its
// snapshot is fixed by the first read. Write methods on its Tx fail.
func (s *Store) View(ctx context.Context, fn func(vax.Tx) error) error {
	return s.retry(ctx, func() error { return s.run(ctx, s.reader, true, fn) })
}

// Read runs fn in a View: SQLite reads are local, a transaction costs them
// no round trips.
func (s *Store) Read(ctx context.Context, fn func(vax.Tx) error) error { return s.View(ctx, fn) }

// BookAppointments runs Tx.BookAppointments in a transaction of its own.
func (s *Store) BookAppointments(ctx context.Context, as []vax.Appointment, msgs []vax.OutboxMessage) ([]bool, error) {
	var booked []bool
	err := s.InTx(ctx, func(tx vax.Tx) (err error) {
		booked, err = tx.BookAppointments(ctx, as, msgs)
		return err
	})
	if err != nil {
		return nil, err // one transaction: nothing was booked
	}
	return booked, nil
}

func (s *Store) retry(ctx context.Context, attempt func() error) error {
	backoff := firstBackoff
	for i := 1; ; i++ {
		err := attempt()
		if err == nil || !retryable(err) || i == attempts {
			return err
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		backoff *= 2
	}
}

func (s *Store) run(ctx context.Context, db *sql.DB, readOnly bool, fn func(vax.Tx) error) error {
	stx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: readOnly})
	if err != nil {
		return fmt.Errorf("sqlite: %w", dbErr(err, "begin transaction"))
	}
	done := false
	// Roll back on an error and on a panic (or runtime.Goexit) in fn, so
	// the writer connection is never left inside a transaction.
	defer func() {
		if !done {
			_ = stx.Rollback()
		}
	}()
	t := &tx{tx: stx, clock: s.clock, readOnly: readOnly}
	if err := fn(t); err != nil {
		return err
	}
	done = true
	if readOnly {
		// Nothing to commit; ending the read releases the snapshot.
		if err := stx.Rollback(); err != nil {
			return fmt.Errorf("sqlite: %w", dbErr(err, "end read transaction"))
		}
		return nil
	}
	if err := stx.Commit(); err != nil {
		return fmt.Errorf("sqlite: %w", dbErr(err, "commit"))
	}
	if t.appended {
		s.signal()
	}
	return nil
}

// signal wakes change-feed consumers in this process; coalesced.
func (s *Store) signal() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Wakeups returns the channel signalled after a transaction of this Store
// that appended changes commits. SQLite cannot tell other processes'
// commits apart, so those are seen only by polling Changes.
func (s *Store) Wakeups() <-chan struct{} { return s.wake }

// Changes returns up to limit changes (vax.PageSize) with Seq > after, in
// Seq order. The single writer commits seqs in order, so there are no gaps
// other than pruned or rolled-back ones.
func (s *Store) Changes(ctx context.Context, after int64, limit int) ([]vax.Change, error) {
	rows, err := s.reader.QueryContext(ctx,
		`SELECT seq, kind, "key", at FROM changes WHERE seq > ? ORDER BY seq LIMIT ?`,
		after, vax.PageSize(limit))
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", dbErr(err, "read changes"))
	}
	defer rows.Close()
	var out []vax.Change
	for rows.Next() {
		var c vax.Change
		var kind string
		var at int64
		if err := rows.Scan(&c.Seq, &kind, &c.Key, &at); err != nil {
			return nil, fmt.Errorf("sqlite: %w", dbErr(err, "read changes"))
		}
		c.Kind = vax.ChangeKind(kind)
		c.At = fromUnix(at)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: %w", dbErr(err, "read changes"))
	}
	return out, nil
}

// PruneChanges deletes changes recorded before t and reports how many.
func (s *Store) PruneChanges(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := s.retry(ctx, func() error {
		res, err := s.writer.ExecContext(ctx, `DELETE FROM changes WHERE at < ?`, unixCeil(before))
		if err != nil {
			return dbErr(err, "prune changes")
		}
		n, err = res.RowsAffected()
		return dbErr(err, "prune changes")
	})
	if err != nil {
		return 0, fmt.Errorf("sqlite: %w", err)
	}
	return n, nil
}

// Ping checks that a reader connection answers a query.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.reader.QueryRowContext(ctx, `SELECT 1`).Scan(&one); err != nil {
		return fmt.Errorf("sqlite: %w", dbErr(err, "ping"))
	}
	return nil
}

// Stats sums the writer's and the readers' connection pool figures.
func (s *Store) Stats() vax.PoolStats {
	w, r := s.writer.Stats(), s.reader.Stats()
	return vax.PoolStats{
		Open:      w.OpenConnections + r.OpenConnections,
		InUse:     w.InUse + r.InUse,
		Idle:      w.Idle + r.Idle,
		WaitCount: w.WaitCount + r.WaitCount,
		WaitTime:  w.WaitDuration + r.WaitDuration,
	}
}

// Close closes the Wakeups channel and the database. Calling it again does
// nothing.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.wake)
	s.mu.Unlock()
	// Close readers first so the writer's close can checkpoint the WAL.
	err := errors.Join(s.reader.Close(), s.writer.Close())
	if err != nil {
		return vax.Wrap(vax.Internal, err, "sqlite: close")
	}
	return nil
}

// toUnix returns t as whole unix seconds, the store's time unit.
func toUnix(t time.Time) int64 { return t.Unix() }

// unixCeil returns the first whole second at or after t, so "at < unixCeil(t)"
// selects exactly the whole-second times before t.
func unixCeil(t time.Time) int64 {
	s := t.Unix()
	if t.Nanosecond() > 0 {
		s++
	}
	return s
}

// fromUnix returns unix seconds as a UTC time.
func fromUnix(s int64) time.Time { return time.Unix(s, 0).UTC() }
