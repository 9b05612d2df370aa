package booking

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/vaxport/vaxport/internal/vax"
)

// Admission batching. In the rush thousands of requests hit one session;
// each would otherwise hold the session row's lock from its seat admission
// to its own commit, so the hot row admits one request per commit. Here the
// requests for one session that arrive while a transaction for it is
// running queue up, and the next transaction books them all (each with its
// own rules, all-or-nothing appointment and SMS) and commits once. Capacity
// is still enforced by the store's conditional update per request, in that
// transaction; a request refused by the rules or for lack of seats leaves
// no write behind and the batch carries on. Any other failure rolls the
// batch back and its requests run again one per transaction, so a bad
// request never sinks the others. Requests for other sessions never wait
// for a hot one.

type batchItem struct {
	ctx       context.Context
	accountID string
	req       ScheduleRequest
	done      chan batchResult
}

type batchResult struct {
	a   vax.Appointment
	err error
}

type batchQueue struct {
	pending []*batchItem
	running bool
}

type batcher struct {
	s   *Service
	max int
	mu  sync.Mutex
	qs  map[string]*batchQueue
}

func newBatcher(s *Service, max int) *batcher {
	return &batcher{s: s, max: max, qs: map[string]*batchQueue{}}
}

// submit queues a request and waits for its result. The first request for
// an idle session runs its batch itself.
func (b *batcher) submit(ctx context.Context, accountID string, req ScheduleRequest) (vax.Appointment, error) {
	it := &batchItem{ctx: ctx, accountID: accountID, req: req, done: make(chan batchResult, 1)}
	key := strings.ToLower(req.SessionID)
	b.mu.Lock()
	q := b.qs[key]
	if q == nil {
		q = &batchQueue{}
		b.qs[key] = q
	}
	q.pending = append(q.pending, it)
	lead := !q.running
	q.running = true
	b.mu.Unlock()
	if lead {
		b.drain(key, q)
	}
	r := <-it.done
	return r.a, r.err
}

// drain runs batches for one session until its queue is empty.
func (b *batcher) drain(key string, q *batchQueue) {
	for {
		b.mu.Lock()
		n := min(len(q.pending), b.max)
		if n == 0 {
			q.running = false
			delete(b.qs, key)
			b.mu.Unlock()
			return
		}
		items := q.pending[:n:n]
		q.pending = q.pending[n:]
		b.mu.Unlock()
		b.run(items)
	}
}

// run books items in one transaction, or one by one if that fails.
func (b *batcher) run(items []*batchItem) {
	s := b.s
	results := make([]batchResult, len(items))
	// The batch outlives any one caller: a caller that gives up does not
	// cancel the others' bookings.
	ctx := context.WithoutCancel(items[0].ctx)
	var booked bool
	err := s.store.InTx(ctx, func(tx vax.Tx) error {
		booked = false
		for i, it := range items {
			if it.ctx.Err() != nil {
				results[i] = batchResult{err: vax.Wrap(vax.Unavailable, it.ctx.Err(), "request cancelled")}
				continue
			}
			a, clean, err := s.book(ctx, tx, it.accountID, it.req)
			if err != nil && !clean {
				return err
			}
			results[i] = batchResult{a: a, err: err}
			booked = booked || err == nil
		}
		return nil
	})
	if err != nil && len(items) > 1 {
		for i, it := range items {
			var a vax.Appointment
			err := s.store.InTx(it.ctx, func(tx vax.Tx) error {
				var err error
				a, _, err = s.book(it.ctx, tx, it.accountID, it.req)
				return err
			})
			results[i] = batchResult{a: a, err: err}
			booked = booked || err == nil
		}
	} else if err != nil {
		results[0] = batchResult{err: err}
	}
	if booked {
		s.notify()
	}
	for i, it := range items {
		if results[i].err != nil {
			results[i].err = fmt.Errorf("schedule: %w", results[i].err)
		}
		it.done <- results[i]
	}
}
