package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/vaxport/vaxport/internal/vax"
)

// The dose path in two round trips: DoseFacts sends its reads and
// CommitDose its writes as one pipelined pgx.Batch each, so a dose costs
// BEGIN, two round trips and COMMIT however many things it reads and
// writes. The reads join what belongs together (a centre and its lot, a
// beneficiary and its account); the writes are the single-call methods'
// statements, so locking and concurrency are theirs: the unique (ref,
// dose) constraint decides between two records of one dose, the lot's row
// lock orders decrements, and the beneficiary's advisory lock and the
// partial unique index keep one current certificate per beneficiary (see
// IssueCertificate). Each statement saved is about 5% of a dose's cost on
// a 2-core machine, where PostgreSQL's own CPU is the limit.
//
// A batch runs in the pool's default mode (cached prepared statements); it
// cannot plan per call as planEach does. Its statements are index probes
// by key, whose plans do not depend on table sizes; planning each call
// instead (default_query_exec_mode=cache_describe) halved the dose rate.

// doseFactsAppointments selects the live appointments in which $1 holds a
// live place, oldest first, with their session's centre.
const doseFactsAppointments = `SELECT a.id::text, a.account_id::text, a.session_id::text, a.dose, a.slot,
		a.status, a.created_at, a.code_failures, s.centre_id
	FROM appointment_places p
	JOIN appointments a ON a.id = p.appointment_id AND a.status = 'live'
	JOIN sessions s ON s.id = a.session_id
	WHERE p.ref = $1 AND p.status = 'live'
	ORDER BY a.created_at, a.id`

// doseFactsCentreLot selects the centre $1 and its lot $2 (empty columns
// when it has none of that number).
const doseFactsCentreLot = `SELECT c.id, c.name, c.address, c.state_id, c.district_id, c.block_name, c.pincode,
		c.lat, c.long, c.open_from, c.open_to, c.fee_type, c.fees,
		coalesce(l.number, ''), coalesce(l.vaccine, ''), coalesce(l.manufacturer, ''),
		coalesce(l.expiry, 'epoch'::date), coalesce(l.received, 0), coalesce(l.used, 0), coalesce(l.created_at, 'epoch')
	FROM centres c LEFT JOIN lots l ON l.centre_id = c.id AND l.number = $2
	WHERE c.id = $1`

// scanCentreLot reads doseFactsCentreLot's row into f.
func scanCentreLot(r pgx.Row, f *vax.DoseFacts) error {
	var c vax.Centre
	var fs []fee
	var l vax.Lot
	var expiry time.Time
	err := r.Scan(&c.ID, &c.Name, &c.Address, &c.StateID, &c.DistrictID, &c.BlockName, &c.Pincode,
		&c.Lat, &c.Long, &c.From, &c.To, &c.FeeType, &fs,
		&l.Number, &l.Vaccine, &l.Manufacturer, &expiry, &l.Received, &l.Used, &l.CreatedAt)
	if err != nil {
		return err
	}
	c.Fees = feesIn(fs)
	f.Centre = c
	if l.Number != "" {
		l.CentreID, l.Expiry, l.CreatedAt = c.ID, vax.DateOf(expiry, time.UTC), l.CreatedAt.UTC()
		f.Lot = l
	}
	return nil
}

// doseFactsBeneficiary selects the beneficiary $1 and its account (empty
// columns when it has none: a walk-in without a mobile number).
const doseFactsBeneficiary = `SELECT b.ref, b.account_id, b.name, b.birth_year, b.gender_id, b.photo_id_type,
		b.photo_id_hash, b.photo_id_sealed, b.photo_id_last4, b.comorbidity, b.created_at,
		coalesce(a.id::text, ''), coalesce(a.mobile_hash, ''), coalesce(a.mobile_sealed, ''::bytea),
		coalesce(a.mobile_last4, ''), coalesce(a.created_at, 'epoch')
	FROM beneficiaries b LEFT JOIN accounts a ON a.id = b.account_id
	WHERE b.ref = $1`

// scanBeneficiaryAccount reads doseFactsBeneficiary's row into f.
func scanBeneficiaryAccount(r pgx.Row, f *vax.DoseFacts) error {
	var b vax.Beneficiary
	var a vax.Account
	err := r.Scan(&b.Ref, &b.AccountID, &b.Name, &b.BirthYear, &b.GenderID, &b.PhotoIDType,
		&b.PhotoIDHash, &b.PhotoIDSealed, &b.PhotoIDLast4, &b.Comorbidity, &b.CreatedAt,
		&a.ID, &a.MobileHash, &a.MobileSealed, &a.MobileLast4, &a.CreatedAt)
	if err != nil {
		return err
	}
	b.CreatedAt = b.CreatedAt.UTC()
	f.Beneficiary = b
	if a.ID != "" {
		a.CreatedAt = a.CreatedAt.UTC()
		f.Account = a
	}
	return nil
}

// DoseFacts reads the centre, lot, beneficiary and account, dose records
// and live appointments in one round trip. Missing things are zero.
func (t *tx) DoseFacts(ctx context.Context, ref string, centreID int64, lot string) (vax.DoseFacts, error) {
	b := &pgx.Batch{}
	b.Queue(doseFactsCentreLot, centreID, lot)
	b.Queue(doseFactsBeneficiary, ref)
	b.Queue("SELECT d.ref, "+doseCols+" FROM doses d WHERE d.ref = $1 ORDER BY d.dose", ref)
	b.Queue(doseFactsAppointments, ref)
	br := t.tx.SendBatch(ctx, b)
	f, err := readDoseFacts(br)
	if cerr := br.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return vax.DoseFacts{}, dbErr(err, "read dose facts")
	}
	return f, nil
}

// readDoseFacts reads DoseFacts' batch results, in the order queued.
func readDoseFacts(br pgx.BatchResults) (vax.DoseFacts, error) {
	var f vax.DoseFacts
	var err error
	if err := scanCentreLot(br.QueryRow(), &f); err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return f, err
	}
	if err := scanBeneficiaryAccount(br.QueryRow(), &f); err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return f, err
	}
	rows, err := br.Query()
	if err != nil {
		return f, err
	}
	if f.Doses, err = pgx.AppendRows([]vax.Dose(nil), rows, func(r pgx.CollectableRow) (vax.Dose, error) { return scanDose(r) }); err != nil {
		return f, err
	}
	rows, err = br.Query()
	if err != nil {
		return f, err
	}
	f.Appointments, err = pgx.AppendRows([]vax.Appointment(nil), rows, func(r pgx.CollectableRow) (vax.Appointment, error) {
		var a vax.Appointment
		var status string
		var centre int64
		err := r.Scan(&a.ID, &a.AccountID, &a.SessionID, &a.Dose, &a.Slot, &status, &a.CreatedAt, &a.CodeFailures, &centre)
		a.Status, a.CreatedAt = vax.AppointmentStatus(status), a.CreatedAt.UTC()
		if f.SessionCentre == nil {
			f.SessionCentre = map[string]int64{}
		}
		f.SessionCentre[a.ID] = centre
		return a, err
	})
	return f, err
}

// recordDoseSQL inserts a dose record ($1..$10 as RecordDose passes them).
const recordDoseSQL = `INSERT INTO doses (id, ref, dose, vaccine, lot, centre_id,
	appointment_id, vaccinator_id, administered_at, recorded_at)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING`

// enqueueSQL inserts an outbox message ($1..$14 as EnqueueMessage passes
// them).
const enqueueSQL = `INSERT INTO outbox (id, kind, payload, created_at,
	expires_at, status, attempts, next_attempt_at, claimed_by, claimed_until, provider, provider_ref,
	sent_at, done_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
	ON CONFLICT DO NOTHING`

// useLotSQL takes one dose from lot ($1, $2) and reports whether it did
// and whether the lot exists (see UseLot). When the dose comes with
// certificate $3 it does so only if the certificate was inserted: if not,
// IssueCertificate must lock the beneficiary's current certificate first,
// and taking the lot's row lock before it would invert the order every
// other dose takes them in (certificate, then lot), a deadlock waiting to
// happen between two doses of one beneficiary.
const useLotSQL = `WITH u AS (UPDATE lots SET used = used + 1
		WHERE centre_id = $1 AND number = $2 AND used < received
		  AND ($3::uuid IS NULL OR EXISTS (SELECT 1 FROM certificates WHERE id = $3::uuid))
		RETURNING 1)
	SELECT EXISTS (SELECT 1 FROM u), EXISTS (SELECT 1 FROM lots WHERE centre_id = $1 AND number = $2)`

// checkDoseWrite validates w as RecordDose, IssueCertificate and
// EnqueueMessage would, before anything is sent.
func checkDoseWrite(w vax.DoseWrite) error {
	if err := checkDose(w.Dose); err != nil {
		return err
	}
	if w.Certificate != nil {
		if err := w.Certificate.ValidateNew(); err != nil {
			return err
		}
	}
	for _, m := range w.Messages {
		if err := checkMessage(m); err != nil {
			return err
		}
	}
	return nil
}

// CommitDose sends the dose's writes as one batch and reads every result,
// in order, mapping each as its single-call method does. Should the
// certificate insert nothing (a concurrent issue for the same beneficiary
// got in first, or its id is taken), IssueCertificate and UseLot take it
// from there, in further round trips.
func (t *tx) CommitDose(ctx context.Context, w vax.DoseWrite) error {
	if err := t.write("CommitDose"); err != nil {
		return err
	}
	if err := checkDoseWrite(w); err != nil {
		return err
	}
	d := w.Dose
	b := &pgx.Batch{}
	b.Queue(recordDoseSQL, d.ID, d.Ref, d.Dose, d.Vaccine, d.Lot, d.CentreID, optionalUUID(d.AppointmentID),
		d.VaccinatorID, stamp(d.AdministeredAt), stamp(d.RecordedAt))
	change := "INSERT INTO changes (kind, key, at) VALUES ($1, $2, $3)"
	if !t.notified {
		change = `WITH c AS (INSERT INTO changes (kind, key, at) VALUES ($1, $2, $3) RETURNING seq)
			SELECT pg_notify('` + notifyChannel + `', coalesce(current_schema(), '')) FROM c`
	}
	b.Queue(change, string(vax.ChangeDose), d.ID, t.now())
	if c := w.Certificate; c != nil {
		// A first certificate has nothing to supersede; should a current
		// one exist after all, the one-current index leaves the insert
		// empty and IssueCertificate supersedes it below.
		if !w.FirstCertificate {
			b.Queue("SELECT pg_advisory_xact_lock($1)", certificateLock(c.Ref))
			b.Queue(supersedeCertificateSQL, c.ID, c.Ref, stamp(c.IssuedAt))
		}
		b.Queue(issueCertificateSQL, c.ID, c.Ref, c.Doses, c.Final, stamp(c.IssuedAt))
	}
	for _, m := range w.Messages {
		b.Queue(enqueueSQL, m.ID, string(m.Kind), m.Payload, millis(m.CreatedAt), nullMillis(m.ExpiresAt),
			string(m.Status), m.Attempts, millis(m.NextAttemptAt), m.ClaimedBy, nullMillis(m.ClaimedUntil),
			m.Provider, m.ProviderRef, nullMillis(m.SentAt), nullMillis(m.DoneAt))
	}
	var certID *string
	if w.Certificate != nil {
		certID = &w.Certificate.ID
	}
	b.Queue(useLotSQL, d.CentreID, d.Lot, certID)
	br := t.tx.SendBatch(ctx, b)
	reissue, err := t.readDoseWrite(br, w)
	if cerr := br.Close(); err == nil && cerr != nil {
		err = dbErr(cerr, "commit dose")
	}
	if err != nil {
		return err
	}
	if reissue {
		if err := t.IssueCertificate(ctx, *w.Certificate); err != nil {
			return err
		}
		return t.UseLot(ctx, d.CentreID, d.Lot)
	}
	return nil
}

// readDoseWrite reads CommitDose's batch results, in the order queued, and
// reports whether the certificate and the lot's decrement are still to be
// done.
func (t *tx) readDoseWrite(br pgx.BatchResults, w vax.DoseWrite) (reissue bool, err error) {
	once := func(what string) error {
		tag, err := br.Exec()
		if err != nil {
			return dbErr(err, what)
		}
		if tag.RowsAffected() == 0 {
			return vax.Errorf(vax.Conflict, "%s: already exists", what)
		}
		return nil
	}
	if err := once("record dose"); err != nil {
		return false, err
	}
	if _, err := br.Exec(); err != nil {
		return false, dbErr(err, fmt.Sprintf("record %s change %s", vax.ChangeDose, w.Dose.ID))
	}
	t.notified = true
	if w.Certificate != nil {
		for range 2 { // the lock and the supersession
			if w.FirstCertificate {
				break
			}
			if _, err := br.Exec(); err != nil {
				return false, dbErr(err, "issue certificate")
			}
		}
		tag, err := br.Exec()
		if err != nil {
			return false, dbErr(err, "issue certificate")
		}
		reissue = tag.RowsAffected() == 0
	}
	for _, m := range w.Messages {
		if err := once("enqueue message " + m.ID); err != nil {
			return false, err
		}
	}
	var used, exists bool
	lot, centre := w.Dose.Lot, w.Dose.CentreID
	switch err := br.QueryRow().Scan(&used, &exists); {
	case err != nil:
		return false, dbErr(err, fmt.Sprintf("use lot %q of centre %d", lot, centre))
	case reissue:
		return true, nil // the lot was left for after the certificate
	case used:
		return false, nil
	case !exists:
		return false, vax.Errorf(vax.NotFound, "lot %q of centre %d not found", lot, centre)
	}
	return false, vax.Errorf(vax.Full, "lot %q of centre %d has no doses left", lot, centre)
}
