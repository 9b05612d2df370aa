package postgres

import (
	"context"
	"embed"
	"fmt"
	"hash/fnv"
	"io/fs"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/vaxport/vaxport/internal/vax"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// versionTable is goose's default version table, created unqualified and so
// in the connection's current schema.
const versionTable = "goose_db_version"

// Options configure a Store. The zero value is usable.
type Options struct {
	Clock vax.Clock // nil = vax.SystemClock{}
	// MaxConns caps the pool. 0 = pool_max_conns from the DSN if given,
	// else 4×GOMAXPROCS capped at 16: more connections than the database
	// has cores to run them only adds contention.
	MaxConns int32
}

// Store is a vax.Store on PostgreSQL. It is safe for concurrent use.
type Store struct {
	pool   *pgxpool.Pool
	clock  vax.Clock
	schema string // current_schema() of the store's connections

	wake     chan struct{}
	mu       sync.RWMutex // guards closed against sends on wake
	closed   bool
	stop     context.CancelFunc
	listened chan struct{} // closed when the listener has returned
	once     sync.Once
}

var _ vax.Store = (*Store)(nil)

// Open connects to the PostgreSQL database named by dsn (a URL or key=value
// string as pgx accepts; unknown parameters such as search_path are sent as
// session settings) and starts listening for change-feed wakeups. It does
// not migrate: call Migrate.
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, vax.Wrap(vax.Invalid, err, "invalid PostgreSQL DSN")
	}
	switch {
	case opts.MaxConns > 0:
		cfg.MaxConns = opts.MaxConns
	case !strings.Contains(dsn, "pool_max_conns"):
		cfg.MaxConns = int32(min(4*runtime.GOMAXPROCS(0), 16))
	}
	if _, ok := cfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		cfg.ConnConfig.RuntimeParams["application_name"] = "vaxport" // names our sessions in pg_stat_activity
	}
	if cfg.MinConns > cfg.MaxConns {
		cfg.MinConns = cfg.MaxConns
	}
	clock := opts.Clock
	if clock == nil {
		clock = vax.SystemClock{}
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, dbErr(err, "open PostgreSQL pool")
	}
	s := &Store{
		pool:     pool,
		clock:    clock,
		wake:     make(chan struct{}, 1),
		listened: make(chan struct{}),
	}
	if err := pool.QueryRow(ctx, "SELECT coalesce(current_schema(), '')").Scan(&s.schema); err != nil {
		pool.Close()
		return nil, dbErr(err, "connect to PostgreSQL")
	}
	// The first LISTEN happens before Open returns, so a commit made after
	// Open (on any node) is sure to wake this store.
	conn, err := s.listen(ctx)
	if err != nil {
		pool.Close()
		return nil, err
	}
	lctx, stop := context.WithCancel(context.Background())
	s.stop = stop
	go s.follow(lctx, conn)
	return s, nil
}

// Close stops the wakeup listener, closes the Wakeups channel and the pool.
// It is safe to call more than once.
func (s *Store) Close() error {
	s.once.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		s.stop()
		<-s.listened
		close(s.wake)
		s.pool.Close()
	})
	return nil
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	return dbErr(s.pool.Ping(ctx), "ping PostgreSQL")
}

// Stats reports the pool's figures. The listener's dedicated connection is
// not counted.
func (s *Store) Stats() vax.PoolStats {
	st := s.pool.Stat()
	return vax.PoolStats{
		Open:      int(st.TotalConns()),
		InUse:     int(st.AcquiredConns()),
		Idle:      int(st.IdleConns()),
		WaitCount: st.EmptyAcquireCount(),
		WaitTime:  st.EmptyAcquireWaitTime(),
	}
}

func migrationsFS() fs.FS {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		panic(err) // the embedded directory exists: a build defect
	}
	return sub
}

// Migrate applies the embedded migrations not yet applied. Nodes migrating
// at once take turns on an advisory lock keyed by the schema, so they never
// run a migration twice; goose's version table lives in the current schema.
func (s *Store) Migrate(ctx context.Context) error {
	db := stdlib.OpenDB(*s.pool.Config().ConnConfig.Copy())
	defer db.Close()
	h := fnv.New64a()
	h.Write([]byte("vaxport-migrate:" + s.schema))
	locker, err := lock.NewPostgresSessionLocker(
		lock.WithLockID(int64(h.Sum64()&(1<<63-1))),
		lock.WithLockTimeout(1, 600), // poll each second for up to 10 minutes
	)
	if err != nil {
		return vax.Wrap(vax.Internal, err, "migrate: make lock")
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrationsFS(),
		goose.WithSessionLocker(locker), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return vax.Wrap(vax.Internal, err, "migrate: load migrations")
	}
	if _, err := p.Up(ctx); err != nil {
		return dbErr(err, "migrate PostgreSQL schema")
	}
	return nil
}

// Migrations reports the highest migration applied to the current schema
// (0 when none) and the latest embedded in this binary.
func (s *Store) Migrations(ctx context.Context) (current, latest int64, err error) {
	names, err := fs.Glob(migrationsFS(), "*.sql")
	if err != nil {
		return 0, 0, vax.Wrap(vax.Internal, err, "list migrations")
	}
	for _, n := range names {
		v, err := goose.NumericComponent(n)
		if err != nil {
			return 0, 0, vax.Wrap(vax.Internal, err, "list migrations")
		}
		latest = max(latest, v)
	}
	// The same test goose makes: is there a version table in the current
	// schema? Reading it must not create it.
	var exists bool
	if err := s.pool.QueryRow(ctx,
		"SELECT EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = current_schema() AND tablename = $1)",
		versionTable).Scan(&exists); err != nil {
		return 0, latest, dbErr(err, "read schema version")
	}
	if exists {
		if err := s.pool.QueryRow(ctx,
			"SELECT coalesce(max(version_id), 0) FROM "+versionTable+" WHERE is_applied").Scan(&current); err != nil {
			return 0, latest, dbErr(err, "read schema version")
		}
	}
	return current, latest, nil
}

// Transaction retries: attempts in all, and the backoff's first and largest
// step (each wait is drawn uniformly up to the step: full jitter).
const (
	txAttempts    = 10
	txBackoffBase = 5 * time.Millisecond
	txBackoffMax  = 500 * time.Millisecond
)

// InTx runs fn in a READ COMMITTED read-write transaction and commits it.
// It runs fn again when PostgreSQL aborts the transaction for a
// serialization failure or a deadlock, up to 10 times with jittered backoff.
func (s *Store) InTx(ctx context.Context, fn func(vax.Tx) error) error {
	return s.run(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted, AccessMode: pgx.ReadWrite}, false, fn)
}

// View runs fn in a read-only REPEATABLE READ transaction: one snapshot for
// all its reads. Write methods fail with an Internal error.
func (s *Store) View(ctx context.Context, fn func(vax.Tx) error) error {
	return s.run(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, true, fn)
}

// Read runs fn with a Tx on the pool, outside any transaction: each read is
// a statement of its own, seeing what was committed when it ran, with no
// BEGIN or COMMIT round trips. Write methods fail with an Internal error.
func (s *Store) Read(ctx context.Context, fn func(vax.Tx) error) error {
	return fn(&tx{s: s, tx: s.pool, readOnly: true})
}

func (s *Store) run(ctx context.Context, opts pgx.TxOptions, readOnly bool, fn func(vax.Tx) error) error {
	step := txBackoffBase
	for attempt := 1; ; attempt++ {
		changed, err := s.runOnce(ctx, opts, readOnly, fn)
		if err == nil {
			if changed {
				s.notify()
			}
			return nil
		}
		if !retryable(err) || attempt == txAttempts {
			return err
		}
		t := time.NewTimer(rand.N(step) + 1)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("retry transaction: %w", dbErr(ctx.Err(), "transaction"))
		case <-t.C:
		}
		step = min(2*step, txBackoffMax)
	}
}

// runOnce runs fn in one transaction and reports whether it appended
// changes. Errors from fn are returned as they are (they are the caller's,
// and the store's own are already *vax.Error).
func (s *Store) runOnce(ctx context.Context, opts pgx.TxOptions, readOnly bool, fn func(vax.Tx) error) (changed bool, err error) {
	ptx, err := s.pool.BeginTx(ctx, opts)
	if err != nil {
		return false, dbErr(err, "begin transaction")
	}
	t := &tx{s: s, tx: ptx, readOnly: readOnly}
	committed := false
	defer func() {
		if !committed {
			// Also on a panic in fn, so the connection returns to the pool.
			// The rollback's own failure changes nothing: the transaction
			// is over either way, and fn's error is the one to report.
			_ = ptx.Rollback(context.WithoutCancel(ctx))
		}
	}()
	if err := fn(t); err != nil {
		return false, err
	}
	committed = true
	if err := ptx.Commit(ctx); err != nil {
		return false, dbErr(err, "commit transaction")
	}
	return t.notified, nil
}

// Wakeups returns the channel that receives a value, coalesced, after any
// transaction that appended changes commits on any node sharing the
// database (and after the listener reconnects, when notifications may have
// been missed). It is closed by Close.
func (s *Store) Wakeups() <-chan struct{} { return s.wake }

// notify wakes Wakeups' reader without blocking; a pending wakeup already
// covers this one.
func (s *Store) notify() {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return
	}
	select {
	case s.wake <- struct{}{}:
	default:
	}
}
