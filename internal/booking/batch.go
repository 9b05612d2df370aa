package booking

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vaxport/vaxport/internal/sms/outbox"

	"github.com/vaxport/vaxport/internal/vax"
)

// Admission batching. In the rush thousands of requests hit one session;
// each would otherwise hold the session row's lock from its seat admission
// to its own commit, so the hot row admits one request per commit. Here the
// requests for one session that arrive while a batch for it is running
// queue up (up to Config.MaxBatch), and the next batch books them all with
// a few round trips whatever their number: reads outside any transaction
// (Store.Read) of the session and of every beneficiary, live place and
// account involved (Tx.BookingFacts), the rules in Go, then per dose one
// Store.BookAppointments, a transaction of its own that inserts the
// appointments, places and sealed SMS and admits the seats that fit under
// the session row's lock. A request refused by the rules or for lack of
// seats gets its own answer and the batch carries on. Any other failure
// (say another node booked the same beneficiary meanwhile) books nothing
// of that dose, and its requests run again one per transaction, so a bad
// request never sinks the others. Requests for other sessions never wait
// for a hot one. A batch for a session held for a fair release enters its
// requests in the release's pool instead, in one transaction (pool.go).

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
	running int // drainers running batches for the session
}

// Drainers: the first request for a session drains its queue; another
// starts draining only while a full batch is waiting and fewer than
// Config.Drainers run, so a modest crowd gets one drainer with large
// batches (two would halve them, which measured slower) and a rush gets
// several, whose writes PostgreSQL runs side by side (it locks the session
// row only from admission to commit).

type batcher struct {
	s        *Service
	max      int // requests per batch
	drainers int // batches of one session at once, at most
	mu       sync.Mutex
	qs       map[string]*batchQueue
}

func newBatcher(s *Service, max, drainers int) *batcher {
	return &batcher{s: s, max: max, drainers: drainers, qs: map[string]*batchQueue{}}
}

// submit queues a request and waits for its result. The first request for
// a session, or one that finds a full batch waiting and fewer than
// b.drainers running, drains the queue itself.
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
	lead := q.running == 0 || q.running < b.drainers && len(q.pending) >= b.max
	if lead {
		q.running++
	}
	b.mu.Unlock()
	if lead {
		b.drain(key, q)
	}
	r := <-it.done
	return r.a, r.err
}

// drain runs batches for one session until its queue is empty.
func (b *batcher) drain(key string, q *batchQueue) {
	for first := true; ; first = false {
		if !first {
			b.gather(q)
		}
		b.mu.Lock()
		n := min(len(q.pending), b.max)
		if n == 0 {
			q.running--
			if q.running == 0 {
				delete(b.qs, key)
			}
			b.mu.Unlock()
			return
		}
		items := q.pending[:n:n]
		q.pending = q.pending[n:]
		b.mu.Unlock()
		b.run(items)
	}
}

// gatherYields is how many times gather lets other goroutines run, at
// most, before a batch is cut.
const gatherYields = 4

// gather lets the requests that are ready to join q do so before the next
// batch is cut from it: while fewer than a full batch wait and the queue
// still grew since the last look, it yields the processor (at most
// gatherYields times). Just after a batch, the callers it answered and the
// requests that reached the node meanwhile are runnable but may not have
// run yet; cut at once, the next batch takes the few that made it and the
// rest wait a whole batch behind it, so a rush settles into batches
// alternating large and small. An idle queue costs one yield.
func (b *batcher) gather(q *batchQueue) {
	b.mu.Lock()
	n := len(q.pending)
	b.mu.Unlock()
	for range gatherYields {
		if n >= b.max {
			return
		}
		runtime.Gosched()
		b.mu.Lock()
		grown := len(q.pending)
		b.mu.Unlock()
		if grown == n {
			return
		}
		n = grown
	}
}

// run books items as a batch, and one by one those whose batch failed.
func (b *batcher) run(items []*batchItem) {
	s := b.s
	// The batch outlives any one caller: a caller that gives up does not
	// cancel the others' bookings.
	ctx := context.WithoutCancel(items[0].ctx)
	results, booked, err := s.bookBatch(ctx, items)
	if err != nil {
		// Requests the batch answered keep their answers (a batch with two
		// doses commits each on its own); the rest run one per transaction,
		// where a failure is only their own.
		for i, it := range items {
			if results[i].err != nil || results[i].a.ID != "" {
				continue
			}
			a, err := s.bookOne(it.ctx, it.accountID, it.req)
			results[i] = batchResult{a: a, err: err}
			booked = booked || err == nil
		}
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

// admission is one request of a batch that passed the rules.
type admission struct {
	i     int
	a     vax.Appointment
	msg   vax.OutboxMessage
	seats int
}

// bookReq is one schedule request of an account.
type bookReq struct {
	accountID string
	req       ScheduleRequest
}

// bookBatch books items, all for one session, with a handful of round
// trips whatever their number: one read of the session outside any
// transaction (Store.Read), one of every beneficiary, live place and
// account involved, then the rules in Go, then per dose one
// Store.BookAppointments. A session held for a fair release enters them in
// its pool instead, in one transaction (pool). A request refused by the
// rules or for lack of seats gets its error in results. Any other error is
// returned with the results so far: requests answered there keep their
// answer, the rest are not booked.
func (s *Service) bookBatch(ctx context.Context, items []*batchItem) (results []batchResult, booked bool, err error) {
	now := s.clock.Now()
	results = make([]batchResult, len(items))
	reqs := make([]bookReq, len(items))
	for i, it := range items {
		reqs[i] = bookReq{it.accountID, it.req}
		if it.ctx.Err() != nil {
			results[i].err = vax.Wrap(vax.Unavailable, it.ctx.Err(), "request cancelled")
		}
	}
	var se vax.Session
	var v vax.Vaccine
	var facts vax.BookingFacts
	err = s.store.Read(ctx, func(tx vax.Tx) (err error) {
		if se, v, err = sessionFor(ctx, tx, items[0].req.SessionID); err != nil || se.Status == vax.SessionHeld {
			return err
		}
		facts, err = pendingFacts(ctx, tx, reqs, results)
		return err
	})
	switch {
	case vax.ErrorReason(err) == ReasonNoSession:
		for i := range results {
			results[i].err = err
		}
		return results, false, nil
	case err != nil:
		return results, false, err
	case se.Status == vax.SessionHeld:
		pooled := results
		err = s.store.InTx(ctx, func(tx vax.Tx) error {
			pooled = slices.Clone(results) // a retried transaction starts afresh
			return s.pool(ctx, tx, se, v, reqs, pooled, now)
		})
		return pooled, false, err
	}
	booked, err = s.bookSession(ctx, s.store.BookAppointments, se, v, facts, reqs, results, now)
	return results, booked, err
}

// bookFunc books appointments of one session and dose in order as far as
// seats go (Tx.BookAppointments, Store.BookAppointments).
type bookFunc func(ctx context.Context, as []vax.Appointment, msgs []vax.OutboxMessage) ([]bool, error)

// bookSession books reqs, all for session se, with book: the rules applied
// to each request in order against facts (what was read about their
// beneficiaries), then one call of book per dose that admits the seats in
// that order and inserts the appointments and SMS. Each request's answer
// goes to results (requests already answered there are skipped): its
// appointment, or its refusal by the rules or for lack of seats. Any other
// error aborts, leaving unanswered the requests that book did not report
// booked.
func (s *Service) bookSession(ctx context.Context, book bookFunc, se vax.Session, v vax.Vaccine, facts vax.BookingFacts,
	reqs []bookReq, results []batchResult, now time.Time) (booked bool, err error) {
	claimed := map[liveKey]bool{}
	byDose := map[int][]admission{}
	var doses []int
	for i, q := range reqs {
		if results[i].err != nil {
			continue
		}
		ad, err := s.admit(se, v, facts, claimed, q.accountID, q.req, now)
		if err != nil {
			results[i].err = err
			continue
		}
		ad.i = i
		if byDose[q.req.Dose] == nil {
			doses = append(doses, q.req.Dose)
		}
		byDose[q.req.Dose] = append(byDose[q.req.Dose], ad)
	}
	for _, dose := range doses {
		ads := byDose[dose]
		as := make([]vax.Appointment, len(ads))
		msgs := make([]vax.OutboxMessage, len(ads))
		for j, ad := range ads {
			as[j], msgs[j] = ad.a, ad.msg
		}
		ok, err := book(ctx, as, msgs)
		for j, ad := range ads {
			if j < len(ok) && ok[j] { // on an error too: booked before it
				results[ad.i].a, booked = ad.a, true
			}
		}
		if err != nil {
			return booked, err
		}
		for j, ad := range ads {
			if !ok[j] {
				s.full.mark(se.ID, dose, ad.seats, now)
				results[ad.i].err = admissionErr(vax.Errorf(vax.Full, "no free seats"), dose)
			}
		}
	}
	return booked, nil
}

// check applies the booking rules to one request from the facts read for
// it; claimed holds the places earlier requests of a batch take (nil:
// none).
func (s *Service) check(se vax.Session, v vax.Vaccine, facts vax.BookingFacts, claimed map[liveKey]bool,
	accountID string, req ScheduleRequest, now time.Time) error {
	b := Booking{Now: now, Session: se, Vaccine: v, Dose: req.Dose, Slot: req.Slot}
	if err := s.rules.Check(b); err != nil {
		return err
	}
	cs, err := s.candidates(facts, claimed, accountID, req)
	if err != nil {
		return err
	}
	return s.rules.Check(b, cs...)
}

// admit applies the rules to one request of a batch from what the batch
// read, and prepares its appointment and sealed SMS. claimed holds the
// places earlier requests of the batch take.
func (s *Service) admit(se vax.Session, v vax.Vaccine, facts vax.BookingFacts,
	claimed map[liveKey]bool, accountID string, req ScheduleRequest, now time.Time) (admission, error) {
	if err := s.check(se, v, facts, claimed, accountID, req, now); err != nil {
		return admission{}, err
	}
	acct, ok := facts.Accounts[strings.ToLower(accountID)]
	if !ok {
		return admission{}, vax.Errorf(vax.NotFound, "account for SMS: account not found")
	}
	to, err := s.mobile(acct)
	if err != nil {
		return admission{}, err
	}
	a, text, err := s.appointment(se, accountID, req, now)
	if err != nil {
		return admission{}, err
	}
	id, err := vax.NewUUID(s.random)
	if err != nil {
		return admission{}, vax.Wrap(vax.Internal, err, "draw a message id")
	}
	ad := admission{a: a, seats: len(req.Refs)}
	ad.msg, err = outbox.Seal(s.keys, outbox.Message{ID: id, Kind: MessageBooked, To: to, Text: text, CreatedAt: now})
	if err != nil {
		return admission{}, err
	}
	for _, ref := range req.Refs {
		claimed[liveKey{ref, req.Dose}] = true
	}
	return ad, nil
}

// pendingFacts reads in one go (Tx.BookingFacts) what the rules need about
// the beneficiaries of the requests not answered yet in results.
func pendingFacts(ctx context.Context, tx vax.Tx, reqs []bookReq, results []batchResult) (vax.BookingFacts, error) {
	var refs []string
	for i, q := range reqs {
		if results[i].err == nil {
			refs = append(refs, q.req.Refs...)
		}
	}
	return tx.BookingFacts(ctx, refs)
}
