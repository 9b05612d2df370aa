package postgres

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vaxport/vaxport/internal/vax"
)

// notifyChannel is the LISTEN/NOTIFY channel of the change feed. Channels
// are database-wide, so the payload names the schema that changed and a
// listener ignores other schemas' notifications (tests, or deployments
// sharing a database).
const notifyChannel = "vaxport_changes"

// Listener reconnection backoff: first and largest step, full jitter.
const (
	listenBackoffBase = 100 * time.Millisecond
	listenBackoffMax  = 5 * time.Second
)

// Changes returns up to limit committed changes after seq, in seq order.
func (s *Store) Changes(ctx context.Context, after int64, limit int) ([]vax.Change, error) {
	return list(ctx, s.pool, "read changes",
		"SELECT seq, kind, key, at FROM changes WHERE seq > $1 ORDER BY seq LIMIT $2",
		[]any{after, vax.PageSize(limit)},
		func(r pgx.Row) (vax.Change, error) {
			var c vax.Change
			err := r.Scan(&c.Seq, &c.Kind, &c.Key, &c.At)
			c.At = c.At.UTC()
			return c, err
		})
}

// PruneChanges deletes the changes recorded before t.
func (s *Store) PruneChanges(ctx context.Context, before time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, "DELETE FROM changes WHERE at < $1", before.UTC())
	if err != nil {
		return 0, dbErr(err, "prune changes")
	}
	return tag.RowsAffected(), nil
}

// listen opens the listener's dedicated connection, outside the pool so
// that it never starves queries nor is recycled under the LISTEN.
func (s *Store) listen(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return nil, dbErr(err, "listen for changes")
	}
	if _, err := conn.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
		closeConn(conn)
		return nil, dbErr(err, "listen for changes")
	}
	return conn, nil
}

// follow turns notifications for this schema into wakeups until ctx ends,
// reconnecting with backoff when the connection fails.
func (s *Store) follow(ctx context.Context, conn *pgx.Conn) {
	defer close(s.listened)
	step := listenBackoffBase
	since := time.Now() // when conn was opened
	for {
		if conn == nil {
			t := time.NewTimer(rand.N(step) + 1)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			step = min(2*step, listenBackoffMax)
			var err error
			if conn, err = s.listen(ctx); err != nil {
				continue
			}
			since = time.Now()
			// Notifications sent while disconnected are lost: poll now.
			s.notify()
		}
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			closeConn(conn)
			conn = nil
			if ctx.Err() != nil {
				return
			}
			// A connection that lived long failed on its own: start the
			// backoff afresh. One that fails at once keeps backing off.
			if time.Since(since) > 2*listenBackoffMax {
				step = listenBackoffBase
			}
			continue
		}
		if n.Payload == s.schema {
			s.notify()
		}
	}
}

func closeConn(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// Nothing to do about a failed goodbye: the server drops the session.
	_ = conn.Close(ctx)
}
