package certificates

import (
	"cmp"
	"context"
	"crypto/rand"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vaxport/vaxport/internal/cert/issuer"
	"github.com/vaxport/vaxport/internal/keyring"
	"github.com/vaxport/vaxport/internal/vax"
)

// Config configures a Service. Store, Keys and Material are required.
type Config struct {
	Store vax.Store
	Keys  *keyring.Keyring
	// Material returns the certificate keys published now (they change on
	// rotation). Certificates are signed with its active key, so a verifier
	// holding what is published can always check what is served.
	Material func() *issuer.Material
	Clock    vax.Clock      // nil: the system clock
	Location *time.Location // the civil zone of dose dates; nil: IST
	Random   io.Reader      // certificate ids; nil: crypto/rand
	// VerifyURL is printed on the PDF: <public-url>/verify.
	VerifyURL string
	// CacheEntries bounds the signed certificates kept (0: 4096);
	// CacheBytes bounds the PDFs kept (0: 64 MiB).
	CacheEntries int
	CacheBytes   int
}

// Service issues certificates and serves their signed forms. It is safe for
// concurrent use.
type Service struct {
	store     vax.Store
	keys      *keyring.Keyring
	material  func() *issuer.Material
	clock     vax.Clock
	loc       *time.Location
	random    io.Reader
	verifyURL string

	signed *lru[Issued]      // by certificate id + kid
	pdfs   *lru[renderedPDF] // by certificate id + kid

	crl crlCache
}

// New returns a Service.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Keys == nil || cfg.Material == nil {
		return nil, vax.Errorf(vax.Internal, "certificates: a store, a keyring and Material are required")
	}
	s := &Service{store: cfg.Store, keys: cfg.Keys, material: cfg.Material, clock: cfg.Clock, loc: cfg.Location,
		random: cfg.Random, verifyURL: cfg.VerifyURL}
	if s.clock == nil {
		s.clock = vax.SystemClock{}
	}
	if s.loc == nil {
		s.loc = time.FixedZone("IST", 5*3600+1800)
	}
	if s.random == nil {
		s.random = rand.Reader
	}
	entries, bytes := cmp.Or(cfg.CacheEntries, 4096), cmp.Or(cfg.CacheBytes, 64<<20)
	s.signed = newLRU(entries, func(Issued) int { return 1 })
	s.pdfs = newLRU(bytes, func(p renderedPDF) int { return len(p.doc) })
	return s, nil
}

// Certify returns the certificate to issue with a dose (the vaccination
// service's Config.Certify): doses are every dose record of the
// beneficiary, the new one last, in dose order; series is the first dose's
// vaccine. The certificate attests them all, provisional until the series
// is complete, final after. It draws the id, stamps the time and touches
// no store: the dose's transaction writes it (Tx.CommitDose), superseding
// the beneficiary's current certificate.
func (s *Service) Certify(doses []vax.Dose, series vax.Vaccine) (*vax.Certificate, error) {
	if len(doses) == 0 {
		return nil, vax.Errorf(vax.Internal, "certificate: no dose to attest")
	}
	if series.Name != doses[0].Vaccine {
		return nil, vax.Errorf(vax.Internal, "certificate: the series is %s, not %s", doses[0].Vaccine, series.Name)
	}
	id, err := vax.NewUUID(s.random)
	if err != nil {
		return nil, vax.Wrap(vax.Internal, err, "certificate: draw an id")
	}
	final := doses[len(doses)-1].Dose >= series.Doses
	return &vax.Certificate{ID: id, Ref: doses[0].Ref, Doses: len(doses), Final: final, IssuedAt: s.clock.Now().UTC()}, nil
}

// Issue issues ref's certificate anew in tx from its dose records,
// superseding the current one: after the beneficiary's details changed (a
// correction, a merge). A beneficiary with no dose has no certificate:
// nothing happens.
func (s *Service) Issue(ctx context.Context, tx vax.Tx, ref string) error {
	doses, err := tx.DosesOf(ctx, ref)
	if err != nil {
		return err
	}
	if len(doses) == 0 {
		return nil
	}
	vaccines, err := tx.Vaccines(ctx)
	if err != nil {
		return err
	}
	series, ok := vaccineNamed(vaccines, doses[0].Vaccine)
	if !ok {
		return vax.Errorf(vax.Internal, "certificate: dose of unknown vaccine %q", doses[0].Vaccine)
	}
	c, err := s.Certify(doses, series)
	if err != nil {
		return err
	}
	return tx.IssueCertificate(ctx, *c)
}

// vaccineNamed finds the vaccine called name in vs.
func vaccineNamed(vs []vax.Vaccine, name string) (vax.Vaccine, bool) {
	i := slices.IndexFunc(vs, func(v vax.Vaccine) bool { return v.Name == name })
	if i < 0 {
		return vax.Vaccine{}, false
	}
	return vs[i], true
}

// Reason codes on the errors For and PDF return, as booking's.
const (
	// ReasonNotRegistered: an unknown beneficiary or another account's
	// (Co-WIN's USRAUT0024).
	ReasonNotRegistered = "USRAUT0024"
	// ReasonNoCertificate: the beneficiary has no dose recorded yet.
	ReasonNoCertificate = "CERT0001"
)

// notRegistered is the one answer for an unknown beneficiary and another
// account's: the caller cannot tell them apart.
func notRegistered(ref string) error {
	e := vax.Errorf(vax.NotFound, "beneficiary %s is not registered with this account", ref)
	e.Reason = ReasonNotRegistered
	return e
}

// facts are what a certificate is rendered from.
type facts struct {
	ben      vax.Beneficiary
	cert     vax.Certificate
	doses    []vax.Dose // the first cert.Doses
	vaccines []vax.Vaccine
	centres  map[int64]vax.Centre
}

// current reads the current certificate of accountID's beneficiary ref
// and, unless cached(its id) holds, everything to render it from.
func (s *Service) current(ctx context.Context, accountID, ref string, cached func(certID string) bool) (facts, bool, error) {
	var f facts
	hit := false
	err := s.store.View(ctx, func(tx vax.Tx) error {
		b, err := tx.Beneficiary(ctx, ref)
		if vax.ErrorCode(err) == vax.NotFound || err == nil && !strings.EqualFold(b.AccountID, accountID) {
			return notRegistered(ref)
		}
		if err != nil {
			return err
		}
		c, err := tx.CurrentCertificate(ctx, ref)
		if vax.ErrorCode(err) == vax.NotFound {
			e := vax.Errorf(vax.NotFound, "beneficiary %s has no certificate yet: it is issued when a dose is recorded", ref)
			e.Reason = ReasonNoCertificate
			return e
		}
		if err != nil {
			return err
		}
		f = facts{ben: b, cert: c, centres: map[int64]vax.Centre{}}
		if hit = cached(c.ID); hit {
			return nil
		}
		doses, err := tx.DosesOf(ctx, ref)
		if err != nil {
			return err
		}
		if len(doses) < c.Doses {
			return vax.Errorf(vax.Internal, "certificate %s attests %d doses, %d are recorded", c.ID, c.Doses, len(doses))
		}
		f.doses = doses[:c.Doses]
		if f.vaccines, err = tx.Vaccines(ctx); err != nil {
			return err
		}
		for _, d := range f.doses {
			if _, ok := f.centres[d.CentreID]; ok {
				continue
			}
			c, err := tx.Centre(ctx, d.CentreID)
			if err != nil {
				return err
			}
			f.centres[d.CentreID] = c
		}
		return nil
	})
	return f, hit, err
}

// signingKey returns the material published now and its active SHC kid.
func (s *Service) signingKey() (*issuer.Material, string, error) {
	m := s.material()
	if m == nil || len(m.JWKS.Keys) == 0 || len(m.Signers) == 0 {
		return nil, "", vax.Errorf(vax.Internal, "certificates: no certificate key is published")
	}
	return m, m.JWKS.Keys[0].Kid, nil
}

// For returns the current certificate of accountID's beneficiary ref,
// signed with the active key. An unknown beneficiary and another account's
// are both NotFound with Reason ReasonNotRegistered; one with no dose yet
// is NotFound with ReasonNoCertificate.
func (s *Service) For(ctx context.Context, accountID, ref string) (Issued, error) {
	m, kid, err := s.signingKey()
	if err != nil {
		return Issued{}, err
	}
	var is Issued
	f, hit, err := s.current(ctx, accountID, ref, func(id string) bool {
		var ok bool
		is, ok = s.signed.get(id + "|" + kid)
		return ok && s.fresh(is)
	})
	if err != nil || hit {
		return is, err
	}
	return s.sign(m, kid, f)
}

// PDF returns the printable current certificate of accountID's beneficiary
// ref (see For for the errors).
func (s *Service) PDF(ctx context.Context, accountID, ref string) ([]byte, error) {
	m, kid, err := s.signingKey()
	if err != nil {
		return nil, err
	}
	var cached renderedPDF
	f, hit, err := s.current(ctx, accountID, ref, func(id string) bool {
		var ok bool
		cached, ok = s.pdfs.get(id + "|" + kid)
		return ok && s.fresh(cached.signed)
	})
	if err != nil || hit {
		return cached.doc, err
	}
	is, ok := s.signed.get(f.cert.ID + "|" + kid)
	if !ok || !s.fresh(is) {
		if is, err = s.sign(m, kid, f); err != nil {
			return nil, err
		}
	}
	doc, err := s.render(f, is)
	if err != nil {
		return nil, err
	}
	s.pdfs.put(f.cert.ID+"|"+kid, renderedPDF{doc: doc, signed: is})
	return doc, nil
}

// renderedPDF is a cached PDF and the signatures it prints.
type renderedPDF struct {
	doc    []byte
	signed Issued
}

// crlCache is the revocation list state shared by every kid's list.
type crlCache struct {
	mu      sync.Mutex
	checked time.Time           // when the store was last read
	seen    time.Time           // the latest supersession read
	ids     map[string]struct{} // superseded certificate ids
	order   []string            // the same, in the order read
	rids    []string            // their rids under every pii key
	ridKeys int                 // pii keys rids covers
	ridIDs  int                 // ids (a prefix of order) rids covers
	docs    map[string][]byte   // encoded list by kid, for len(rids)
	docLen  map[string]int
}
