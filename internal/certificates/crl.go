package certificates

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"github.com/vaxport/vaxport/internal/cert/shc"
	"github.com/vaxport/vaxport/internal/vax"
)

// crlMaxAge is how long CRL serves its cached list before reading the store
// for newer supersessions.
const crlMaxAge = 5 * time.Second

// crlOverlap is how far back each read starts again before the latest
// supersession seen: a supersession is stamped with its transaction's clock
// before that transaction commits (and nodes' clocks differ a little), so
// one can become visible after a later one was read.
const crlOverlap = 30 * time.Second

// CRL returns the SMART Health Cards revocation list of key kid:
// {"kid","method":"rid","ctr","rids":[…]} listing the rid of every
// superseded certificate (under every pii key), whichever key signed its
// cards. ctr grows whenever the list does. NotFound when kid is not one of
// the published keys.
func (s *Service) CRL(ctx context.Context, kid string) ([]byte, error) {
	m := s.material()
	if m == nil || !slices.ContainsFunc(m.JWKS.Keys, func(k shc.JWK) bool { return k.Kid == kid }) {
		return nil, vax.Errorf(vax.NotFound, "no revocation list for key %q: not one of our keys", kid)
	}
	c := &s.crl
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := s.clock.Now(); c.ids == nil || now.Sub(c.checked) >= crlMaxAge || now.Before(c.checked) {
		if err := s.refreshCRL(ctx); err != nil {
			return nil, err
		}
		c.checked = now
	}
	if keys := len(s.keys.Hashes("")); keys != c.ridKeys {
		c.rids, c.ridKeys, c.ridIDs = nil, keys, 0
	}
	for _, id := range c.order[c.ridIDs:] {
		c.rids = append(c.rids, s.rids(id)...)
	}
	c.ridIDs = len(c.order)
	if doc, ok := c.docs[kid]; ok && c.docLen[kid] == len(c.rids) {
		return doc, nil
	}
	doc, err := json.Marshal(shc.CRL{Kid: kid, Method: "rid", Ctr: len(c.rids) + 1, Rids: append([]string{}, c.rids...)})
	if err != nil {
		return nil, vax.Wrap(vax.Internal, err, "encode the revocation list")
	}
	if c.docs == nil {
		c.docs, c.docLen = map[string][]byte{}, map[string]int{}
	}
	c.docs[kid], c.docLen[kid] = doc, len(c.rids)
	return doc, nil
}

// CRLs returns the revocation list of every published key, for the
// published keys and the online verifier's trust (issuer.Build).
func (s *Service) CRLs(ctx context.Context) ([]shc.CRL, error) {
	m := s.material()
	if m == nil {
		return nil, nil
	}
	var out []shc.CRL
	for _, k := range m.JWKS.Keys {
		doc, err := s.CRL(ctx, k.Kid)
		if err != nil {
			return nil, err
		}
		c, err := shc.ParseCRL(doc)
		if err != nil {
			return nil, vax.Wrap(vax.Internal, err, "read back our revocation list")
		}
		out = append(out, c)
	}
	return out, nil
}

// refreshCRL reads the supersessions since a little before the latest
// seen. c.mu is held.
func (s *Service) refreshCRL(ctx context.Context) error {
	c := &s.crl
	if c.ids == nil {
		c.ids = map[string]struct{}{}
	}
	since := time.Time{}
	if !c.seen.IsZero() {
		since = c.seen.Add(-crlOverlap)
	}
	for {
		var page []vax.Certificate
		err := s.store.View(ctx, func(tx vax.Tx) (err error) {
			page, err = tx.SupersededCertificates(ctx, since, vax.MaxLimit)
			return err
		})
		if err != nil {
			return err
		}
		for _, cert := range page {
			if _, ok := c.ids[cert.ID]; !ok {
				c.ids[cert.ID] = struct{}{}
				c.order = append(c.order, cert.ID)
			}
			if cert.SupersededAt.After(c.seen) {
				c.seen = cert.SupersededAt
			}
		}
		if len(page) < vax.MaxLimit {
			return nil
		}
		// A full page: go on from just before its last second, so the rest
		// of that second is read too; unless the whole page is one second,
		// which a page cannot get past.
		last := page[len(page)-1].SupersededAt
		next := last.Add(-time.Nanosecond)
		if !next.After(since) {
			slog.WarnContext(ctx, "certificate revocation list: more supersessions in one second than a page holds; some may be listed late",
				"second", last.Unix(), "page", strconv.Itoa(vax.MaxLimit))
			next = last
		}
		since = next
	}
}
