package booking_test

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/vaxport/vaxport/internal/store/postgres"
	"github.com/vaxport/vaxport/internal/store/postgres/pgtest"
	"github.com/vaxport/vaxport/internal/vax"
)

// BenchmarkNaiveUpdate is the baseline, to compare with
// BenchmarkSchedule/postgres/hot in the same run: one autocommitted
// `UPDATE … SET booked1 = booked1 + 1 WHERE booked1 < capacity1` per
// request on one hot row, benchClients concurrent clients, nothing else (no rules,
// no appointment rows, no SMS).
func BenchmarkNaiveUpdate(b *testing.B) {
	var dsn string
	e := newBenchEnv(b, func(t testing.TB) vax.Store {
		dsn = pgtest.DSN(t)
		s, err := postgres.Open(t.Context(), dsn, postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		if err := s.Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
		return s
	}, 1, 1)
	id := e.benchSession(b, 1, b.N+1)
	pool, err := pgxpool.New(b.Context(), dsn)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	// Warm up as the booking benchmarks do: as many updates of another row,
	// benchClients at a time.
	warm := e.benchSession(b, 0, warmUpAttempts)
	var wg sync.WaitGroup
	var left atomic.Int64
	left.Store(warmUpAttempts)
	for range benchClients {
		wg.Go(func() {
			for left.Add(-1) >= 0 {
				if _, err := pool.Exec(b.Context(),
					`UPDATE sessions SET booked1 = booked1 + 1 WHERE id = $1 AND booked1 < capacity1`, warm); err != nil {
					b.Error("warm-up:", err)
					return
				}
			}
		})
	}
	wg.Wait()
	var next atomic.Int64
	lat := make([]time.Duration, b.N)
	b.SetParallelism(benchClients / runtime.GOMAXPROCS(0))
	cpu := startCPU()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := next.Add(1)
			start := time.Now()
			if _, err := pool.Exec(context.Background(),
				`UPDATE sessions SET booked1 = booked1 + 1 WHERE id = $1 AND booked1 < capacity1`, id); err != nil {
				b.Error(err)
				return
			}
			lat[n-1] = time.Since(start)
		}
	})
	b.StopTimer()
	cpu.report(b)
	reportLatency(b, lat)
}
