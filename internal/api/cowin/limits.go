package cowin

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/vaxport/vaxport/internal/api"
	"github.com/vaxport/vaxport/internal/ratelimit"
	"github.com/vaxport/vaxport/internal/vax"
)

// The anti-automation limits of the Co-WIN surface: searches per client
// address, bookings per client address, per account and per beneficiary. Each is a
// ratelimit.PerKey holding this node's share of a deployment-wide limit
// (cmd/vaxport re-shares them as nodes come and go). A refused request is
// answered 429 with Retry-After before it reaches the store or the index;
// a client that comes back before its Retry-After is held first (up to
// ratelimit.MaxHold), so a tight loop costs the node about one answer a
// second per connection.

// refuse is the answer to a request over a limit.
func refuse(msg string, wait time.Duration) error {
	return api.WithRetryAfter(vax.Errorf(vax.RateLimited, "%s", msg), wait)
}

// maxHeld bounds the refusals a surface holds at once (ratelimit.Holder):
// a few kilobytes each.
const maxHeld = 4096

// check applies limit to key for r: a client back before its Retry-After
// is held first (ratelimit.Check, ratelimit.Holder), then refused.
func check(limit *ratelimit.PerKey, holder *ratelimit.Holder, r *http.Request, key, msg string) error {
	ok, wait, hold := limit.Check(key)
	if ok {
		return nil
	}
	holder.Hold(r.Context(), hold)
	return refuse(msg, wait)
}

// limitSearch wraps a search handler with the per-address limit.
func (s *Server) limitSearch(h api.HandlerFunc) api.HandlerFunc {
	if s.searchLimit == nil {
		return h
	}
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := check(s.searchLimit, s.held, r, s.clientKey(r), "too many searches from this address: try again shortly"); err != nil {
			return err
		}
		return h(w, r)
	}
}

// remoteHost is the connection's address, the client key when none is
// configured.
func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// limitBooking wraps a booking handler with the per-account limit and,
// when refs is set, the per-beneficiary limit over the references refs
// finds in the body (one token from each). A request without an
// Idempotency-Key leaves the beneficiaries to the handler, which decodes
// the body anyway (checkBeneficiaries): reading it twice would cost the
// sold-out answer a tenth of its speed. A keyed one must be checked here,
// before its key is looked up and its answer kept.
func (b *Booking) limitBooking(refs func(body []byte) []string, h func(http.ResponseWriter, *http.Request, string) error) func(http.ResponseWriter, *http.Request, string) error {
	if b.accountLimit == nil && b.addressLimit == nil && (refs == nil || b.beneficiaryLimit == nil) {
		return h
	}
	return func(w http.ResponseWriter, r *http.Request, account string) error {
		if err := check(b.addressLimit, b.held, r, b.clientKey(r), "too many booking requests from this address: try again shortly"); err != nil {
			return err
		}
		if err := check(b.accountLimit, b.held, r, account, "too many booking requests from this account: try again shortly"); err != nil {
			return err
		}
		if refs != nil && b.beneficiaryLimit != nil && r.Body != nil && r.Header.Get("Idempotency-Key") != "" {
			// Peek at the body; the handler still reads all of it and
			// answers an oversized one as it would.
			body, err := io.ReadAll(io.LimitReader(r.Body, api.MaxJSONBytes))
			if err != nil {
				return vax.Wrap(vax.Invalid, err, "could not read the request body")
			}
			r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), r.Body))
			if err := b.allowBeneficiaries(refs(body)); err != nil {
				return err
			}
		}
		return h(w, r, account)
	}
}

// checkBeneficiaries applies the per-beneficiary limit to a request
// without an Idempotency-Key (limitBooking checked the others).
func (b *Booking) checkBeneficiaries(r *http.Request, refs []string) error {
	if r.Header.Get("Idempotency-Key") != "" {
		return nil
	}
	return b.allowBeneficiaries(refs)
}

func (b *Booking) allowBeneficiaries(refs []string) error {
	if ok, wait := b.beneficiaryLimit.AllowAll(refs); !ok {
		return refuse("too many booking requests for this beneficiary: try again shortly", wait)
	}
	return nil
}

// scheduleRefs are the beneficiary references of a schedule request; a
// body that does not decode has none (the handler reports it).
func scheduleRefs(body []byte) []string {
	var req struct {
		Beneficiaries []string `json:"beneficiaries"`
	}
	_ = json.Unmarshal(body, &req)
	return req.Beneficiaries
}
