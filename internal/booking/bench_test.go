package booking_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vaxport/vaxport/internal/booking"
	"github.com/vaxport/vaxport/internal/vax"
)

// benchAccounts creates n accounts with one beneficiary each, directly in
// the store (the benchmark measures booking, not registration).
func benchAccounts(b *testing.B, e *env, n int) []string {
	b.Helper()
	refs := make([]string, n+1)
	sealed, err := e.keys.Seal([]byte("9876500000"), []byte("unused"))
	if err != nil {
		b.Fatal(err)
	}
	const chunk = 500
	for lo := 1; lo <= n; lo += chunk {
		err := e.store.InTx(b.Context(), func(tx vax.Tx) error {
			for i := lo; i < lo+chunk && i <= n; i++ {
				id := acctID(i)
				if err := tx.CreateAccount(b.Context(), vax.Account{ID: id, MobileHash: fmt.Sprint("m", i), MobileSealed: sealed, MobileLast4: "0000", CreatedAt: t0}); err != nil {
					return err
				}
				ref, err := vax.NewBeneficiaryRef(rand.Reader)
				if err != nil {
					return err
				}
				if err := tx.CreateBeneficiary(b.Context(), vax.Beneficiary{Ref: ref, AccountID: id, Name: "Bench", BirthYear: 1990, GenderID: 1,
					PhotoIDType: 8, PhotoIDHash: fmt.Sprint("p", i), PhotoIDSealed: sealed, PhotoIDLast4: "0000", CreatedAt: t0}); err != nil {
					return err
				}
				refs[i] = ref
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	return refs
}

// benchClients is how many clients the booking benchmarks run at once
// (BenchmarkSchedule and BenchmarkNaiveUpdate alike): env
// VAXPORT_BENCH_CLIENTS, default 512 — the rush the booking issue
// describes, where the naive update's p99 is "near 170 ms" (here 512
// clients give it 115–140 ms; 64 clients, 20 ms).
var benchClients = 512

func init() {
	if v, err := strconv.Atoi(os.Getenv("VAXPORT_BENCH_CLIENTS")); err == nil && v > 0 {
		benchClients = v
	}
}

// machineCPU reads the CPU time the whole machine has spent busy (user,
// nice, system, irq, softirq: this process, the database and anything else
// running), from /proc/stat; ok is false where there is none.
func machineCPU() (busy time.Duration, ok bool) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, false
	}
	line, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0, false
	}
	var ticks int64
	for _, i := range []int{1, 2, 3, 6, 7} { // user nice system irq softirq
		n, err := strconv.ParseInt(f[i], 10, 64)
		if err != nil {
			return 0, false
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / 100, true // USER_HZ
}

// cpuMeter measures the machine's busy CPU time over a benchmark's timed
// part: on a shared machine wall-clock throughput moves with the
// neighbours, the CPU time one attempt costs much less.
type cpuMeter struct {
	start time.Duration
	ok    bool
}

func startCPU() cpuMeter {
	busy, ok := machineCPU()
	return cpuMeter{busy, ok}
}

// report reports the machine's busy CPU time per attempt since start.
func (m cpuMeter) report(b *testing.B) {
	if busy, ok := machineCPU(); ok && m.ok {
		b.ReportMetric(float64((busy-m.start).Microseconds())/float64(b.N), "cpu-µs/op")
	}
}

// reportLatency reports the throughput and the p50 and p99 of lat.
func reportLatency(b *testing.B, lat []time.Duration) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
	slices.Sort(lat)
	if len(lat) == 0 {
		return
	}
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

// BenchmarkSchedule measures Schedule on one hot session while seats
// remain (hot; hot-unbatched: one transaction per request, MaxBatch 1), on
// a full session (soldout: answered from memory), and spread over 1,000
// sessions (spread), on both stores, with benchClients
// concurrent clients. Mobile numbers are not opened (a constant stands
// in), so the figure is booking's own cost.
func BenchmarkSchedule(b *testing.B) {
	for _, be := range stores {
		for _, mode := range []string{"hot", "hot-unbatched", "soldout", "spread"} {
			b.Run(be.Name+"/"+mode, func(b *testing.B) {
				maxBatch := 0
				if mode == "hot-unbatched" {
					maxBatch = 1
				}
				e := newBenchEnv(b, be.Open, maxBatch, drainersFor(be.Name))
				sessions := 1
				if mode == "spread" {
					sessions = 1000
				}
				seats := b.N + 1
				if mode == "soldout" {
					seats = 1
				}
				var ids []string
				for s := 1; s <= sessions; s++ {
					ids = append(ids, e.benchSession(b, s, seats))
				}
				refs := benchAccounts(b, e, b.N+1+warmUpAttempts)
				e.warmUp(b, refs[b.N+2:])
				if mode == "soldout" {
					// Fill it, and have the store refuse once.
					for _, n := range []int{b.N + 1, b.N} {
						e.svc.Schedule(b.Context(), acctID(n), booking.ScheduleRequest{Dose: 1, SessionID: ids[0], Slot: "09:00AM-11:00AM", Refs: []string{refs[n]}})
					}
				}
				var next atomic.Int64
				var failed atomic.Int64
				lat := make([]time.Duration, b.N)
				b.SetParallelism(benchClients / runtime.GOMAXPROCS(0))
				cpu := startCPU()
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						n := int(next.Add(1))
						start := time.Now()
						_, err := e.svc.Schedule(context.Background(), acctID(n), booking.ScheduleRequest{
							Dose: 1, SessionID: ids[n%len(ids)], Slot: "09:00AM-11:00AM", Refs: []string{refs[n]}})
						lat[n-1] = time.Since(start)
						if (err != nil) != (mode == "soldout") {
							failed.Add(1)
						}
					}
				})
				b.StopTimer()
				cpu.report(b)
				reportLatency(b, lat)
				if f := failed.Load(); f > 0 {
					b.Fatalf("%d attempts answered unexpectedly", f)
				}
			})
		}
	}
}

// warmUpAttempts is how many bookings warm a booking benchmark up, and how many
// updates warm BenchmarkNaiveUpdate up: enough to open every connection
// and run each statement a few times on each, so that the clock measures
// the steady rush and not connection setup, statement preparation or the
// first reads of a new schema's catalog.
const warmUpAttempts = 4 * booking.DefaultMaxBatch

// warmUp books refs (one per account, accounts numbered on from b.N+2) on
// a session of their own, benchClients at a time, before the clock starts.
func (e *env) warmUp(b *testing.B, refs []string) {
	b.Helper()
	id := e.benchSession(b, 0, len(refs))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range benchClients {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < len(refs); i = int(next.Add(1)) - 1 {
				_, err := e.svc.Schedule(b.Context(), acctID(b.N+2+i), booking.ScheduleRequest{
					Dose: 1, SessionID: id, Slot: "09:00AM-11:00AM", Refs: []string{refs[i]}})
				if err != nil {
					b.Error("warm-up:", err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// drainersFor is Config.Drainers as cmd/vaxport sets it for a store kind.
func drainersFor(backend string) int {
	if backend == "postgres" {
		return 2
	}
	return 1
}
