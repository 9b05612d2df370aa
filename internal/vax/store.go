package vax

import (
	"context"
	"time"
)

// Store is the system of record. Two implementations pass one contract
// suite (internal/store/storetest): embedded SQLite and PostgreSQL.
//
// Stores offer atomic operations and translate driver errors into *Error
// codes (no rows → NotFound, unique violation → Conflict); business rules
// live above them.
type Store interface {
	// InTx runs fn in a read-write transaction and commits if fn returns
	// nil. Serialization failures and deadlocks are retried, so fn may run
	// more than once and must not have effects outside tx.
	InTx(ctx context.Context, fn func(Tx) error) error
	// View runs fn in a read-only transaction with a consistent snapshot.
	// Write methods called on its Tx fail.
	View(ctx context.Context, fn func(Tx) error) error
	// Read runs fn with a Tx outside any transaction: each read sees what
	// was committed when it ran, as in a READ COMMITTED transaction, and
	// writes fail. It spares a transaction's round trips to readers whose
	// reads need not agree with each other. A store without such a mode
	// runs fn in a View.
	Read(ctx context.Context, fn func(Tx) error) error
	// BookAppointments is Tx.BookAppointments in a transaction of its own,
	// which the store may send and commit in one round trip. A store may
	// book a batch in rounds, each committed on its own (after a left-out
	// appointment, the smaller ones after it): on an error, booked[i] is
	// true for the appointments booked before it, and the rest were not
	// booked.
	BookAppointments(ctx context.Context, as []Appointment, msgs []OutboxMessage) (booked []bool, err error)

	// Changes returns up to limit committed changes with Seq > after, in
	// Seq order. Seq values are unique and increasing in order of
	// allocation, not of commit: a reader may see a gap that a slower
	// transaction fills later (internal/changefeed copes with that).
	Changes(ctx context.Context, after int64, limit int) ([]Change, error)
	// PruneChanges deletes changes recorded before t and reports how many.
	PruneChanges(ctx context.Context, before time.Time) (int64, error)
	// Wakeups returns a channel that receives a value, coalesced, soon after
	// any transaction that appended changes commits — on any node, where
	// the store can tell (PostgreSQL LISTEN/NOTIFY), or in this process.
	// It is a hint to poll Changes now; consumers poll anyway. Each call
	// returns the same channel; it is closed when the store closes.
	Wakeups() <-chan struct{}

	// Ping checks that the store answers.
	Ping(ctx context.Context) error
	// Migrations reports the schema version applied and the latest this
	// binary knows.
	Migrations(ctx context.Context) (current, latest int64, err error)
	// Stats reports connection pool figures for /metrics.
	Stats() PoolStats
	// Close releases the store's resources.
	Close() error
}

// PoolStats are a store's connection pool figures.
type PoolStats struct {
	Open      int           // connections open
	InUse     int           // connections in use
	Idle      int           // connections idle
	WaitCount int64         // total waits for a connection
	WaitTime  time.Duration // total time waited
}

// Tx is a transaction on a Store. Every method takes the caller's context.
type Tx interface {
	// Meta returns a deployment-wide setting (e.g. the keyring fingerprint);
	// NotFound when absent.
	Meta(ctx context.Context, key string) (string, error)
	// SetMeta inserts or replaces a setting.
	SetMeta(ctx context.Context, key, value string) error

	// PutState inserts or replaces a state.
	PutState(ctx context.Context, s State) error
	// States lists all states by id.
	States(ctx context.Context) ([]State, error)
	// PutDistrict inserts or replaces a district; NotFound if its state is
	// unknown.
	PutDistrict(ctx context.Context, d District) error
	// District returns one district; NotFound when unknown.
	District(ctx context.Context, id int) (District, error)
	// Districts lists a state's districts by id (empty for an unknown state).
	Districts(ctx context.Context, stateID int) ([]District, error)

	// PutVaccine inserts or replaces a vaccine by name.
	PutVaccine(ctx context.Context, v Vaccine) error
	// Vaccines lists all vaccines by name.
	Vaccines(ctx context.Context) ([]Vaccine, error)

	// CreateCentre inserts c. If c.ID is 0 the store assigns the next free
	// id; otherwise that id is used (Conflict if taken), and later assigned
	// ids stay above it. Returns the id. NotFound if the district is
	// unknown, Invalid if the district is not in c.StateID.
	CreateCentre(ctx context.Context, c Centre) (int64, error)
	// UpdateCentre replaces every field of the centre c.ID; NotFound if
	// absent.
	UpdateCentre(ctx context.Context, c Centre) error
	// Centre returns one centre; NotFound when unknown.
	Centre(ctx context.Context, id int64) (Centre, error)
	// Centres lists centres matching q by ascending id.
	Centres(ctx context.Context, q CentreQuery) ([]Centre, error)

	// CreateSession inserts s (s.ID is set by the caller); Conflict if the
	// id is taken, NotFound if the centre or vaccine is unknown.
	CreateSession(ctx context.Context, s Session) error
	// UpdateSession replaces the session s.ID's centre-independent fields
	// (date, vaccine, ages, capacities, slots, status — not booked counts,
	// which only seat admission moves); NotFound if absent.
	UpdateSession(ctx context.Context, s Session) error
	// Session returns one session; NotFound when unknown.
	Session(ctx context.Context, id string) (Session, error)
	// Sessions lists sessions matching q, ordered by id.
	Sessions(ctx context.Context, q SessionQuery) ([]Session, error)

	// AppendChange records that something changed; every node's change
	// feed sees it once the transaction commits.
	AppendChange(ctx context.Context, kind ChangeKind, key string) error

	// Accounts. Stored times are whole seconds, UTC.

	// CreateAccount inserts a; Conflict if its id or mobile hash is taken,
	// Invalid if its id is not a UUID.
	CreateAccount(ctx context.Context, a Account) error
	// Account returns one account; NotFound when unknown.
	Account(ctx context.Context, id string) (Account, error)
	// AccountByMobile returns the account whose mobile hash is one of
	// hashes (the number's blind index under every key, so a lookup finds
	// accounts hashed before a key rotation); NotFound when none.
	AccountByMobile(ctx context.Context, hashes []string) (Account, error)

	// OTP transactions.

	// CreateOTPTxn inserts o; Conflict if its id is taken, Invalid if the id
	// is not a UUID.
	CreateOTPTxn(ctx context.Context, o OTPTxn) error
	// OTPTxn returns one OTP transaction; NotFound when unknown. In a
	// read-write transaction the row stays locked until the transaction
	// ends, so concurrent confirmations of one txn take turns.
	OTPTxn(ctx context.Context, id string) (OTPTxn, error)
	// UpdateOTPTxn stores o's Attempts and UsedAt (nothing else changes);
	// NotFound if absent.
	UpdateOTPTxn(ctx context.Context, o OTPTxn) error
	// OTPTxnsByMobile lists the OTP transactions created at or after since
	// for any of hashes, oldest first. In a read-write transaction it first
	// takes a lock on hashes[0] held until the transaction ends, so
	// concurrent requests for one number take turns.
	OTPTxnsByMobile(ctx context.Context, hashes []string, since time.Time) ([]OTPTxn, error)
	// DeleteOTPTxns deletes OTP transactions created before t and reports
	// how many.
	DeleteOTPTxns(ctx context.Context, before time.Time) (int64, error)

	// Token revocations.

	// RevokeToken records r. Revoking an id again keeps the later Until.
	RevokeToken(ctx context.Context, r Revocation) error
	// Revocations lists the revocations whose Until is after t, by id.
	Revocations(ctx context.Context, after time.Time) ([]Revocation, error)
	// DeleteRevocations deletes revocations whose Until is before t and
	// reports how many.
	DeleteRevocations(ctx context.Context, before time.Time) (int64, error)

	// Beneficiaries and appointments. Stored times are whole seconds, UTC.

	// CreateBeneficiary inserts b; Conflict if its reference id or photo-ID
	// hash is taken.
	CreateBeneficiary(ctx context.Context, b Beneficiary) error
	// Beneficiary returns one beneficiary; NotFound when unknown.
	Beneficiary(ctx context.Context, ref string) (Beneficiary, error)
	// BeneficiariesOf lists an account's beneficiaries, oldest first.
	BeneficiariesOf(ctx context.Context, accountID string) ([]Beneficiary, error)
	// ReserveBeneficiary prepares registering a beneficiary under
	// accountID whose photo ID has the blind indexes photoIDHashes (one per
	// pii key, so a number registered before a key rotation is found). In a
	// read-write transaction it excludes, until the transaction ends, every
	// other ReserveBeneficiary for the same account or sharing any hash, on
	// every node; then it reports how many beneficiaries the account has
	// and whether any of the hashes is registered. A caller that checks
	// both before CreateBeneficiary in the same transaction cannot pass a
	// per-account cap or register a photo ID twice, whatever runs
	// concurrently.
	ReserveBeneficiary(ctx context.Context, accountID string, photoIDHashes []string) (count int, taken bool, err error)
	// DeleteBeneficiary deletes one beneficiary; NotFound if absent,
	// Conflict while it has a live appointment place.
	DeleteBeneficiary(ctx context.Context, ref string) error

	// BookAppointment admits len(a.Beneficiaries) seats of dose a.Dose in
	// session a.SessionID and inserts a, all in this transaction. Seats are
	// admitted by one conditional update of the session's booked count, so
	// capacity is never exceeded whatever runs concurrently: Full if the
	// session (open) lacks that many free seats, NotFound if it is unknown,
	// Conflict if the id is taken or a beneficiary already holds a live
	// place for that dose. a.Status and every place's Status must be live.
	// Dose 1 counts against Capacity1, any later dose against Capacity2.
	// Like every method that moves booked counts, it appends a ChangeSession
	// change for the session.
	BookAppointment(ctx context.Context, a Appointment) error
	// BookAppointments books appointments of one session and dose as
	// BookAppointment would one by one, with one admission for them all:
	// in order, each is booked if its seats still fit (booked[i]), else
	// left out (Full for it); msgs[i], if msgs is not nil, is enqueued
	// (as EnqueueMessage) exactly when as[i] is booked. NotFound if the
	// session is unknown; Conflict (and the transaction must be rolled back)
	// if an id is taken or a beneficiary already holds a live place for the
	// dose. It appends one ChangeSession change when it books any.
	BookAppointments(ctx context.Context, as []Appointment, msgs []OutboxMessage) (booked []bool, err error)
	// BookingFacts reads, in one go, the beneficiaries refs name, the doses
	// each holds a live place for, and the accounts that own them.
	BookingFacts(ctx context.Context, refs []string) (BookingFacts, error)
	// Appointment returns one appointment with its places (by ref);
	// NotFound when unknown. In a read-write transaction the row stays
	// locked until the transaction ends.
	Appointment(ctx context.Context, id string) (Appointment, error)
	// AppointmentsOf lists an account's appointments, oldest first.
	AppointmentsOf(ctx context.Context, accountID string) ([]Appointment, error)
	// SessionAppointments lists the live appointments of a session, by id.
	SessionAppointments(ctx context.Context, sessionID string) ([]Appointment, error)
	// CancelPlaces cancels the live places of appointment id whose refs are
	// in refs (every live place when refs is nil), releases their seats and
	// cancels the appointment when no place is left live. It reports how
	// many places it cancelled; NotFound if the appointment is unknown.
	CancelPlaces(ctx context.Context, id string, refs []string) (int, error)
	// MoveAppointment moves the live appointment id to another session and
	// slot: it admits its live places' seats there (Full, NotFound as
	// BookAppointment) and releases them in the old session. NotFound if
	// the appointment is unknown, Conflict if it is cancelled.
	MoveAppointment(ctx context.Context, id, sessionID, slot string) error

	// Fair release (see Release). Release times keep milliseconds.

	// CreateRelease inserts r and holds its sessions (open → held). Each
	// session must be open with no seat booked and in no other release:
	// Conflict otherwise; NotFound if one is unknown; Conflict if the id is
	// taken. BookAppointment(s) and MoveAppointment refuse a held session as
	// one that is not open. Appends a ChangeSession per session and a
	// ChangeRelease.
	CreateRelease(ctx context.Context, r Release) error
	// Release returns one release; NotFound when unknown. In a read-write
	// transaction the row stays locked (exclusively) until the transaction
	// ends: a draw holds it, so entries wait for the draw to end.
	Release(ctx context.Context, id string) (Release, error)
	// ReleaseOfSession returns the release that holds or held sessionID;
	// NotFound when none.
	ReleaseOfSession(ctx context.Context, sessionID string) (Release, error)
	// Releases lists the releases with the given status (every release when
	// status is ""), by ReleaseAt then id.
	Releases(ctx context.Context, status ReleaseStatus) ([]Release, error)
	// EnterRelease records e (pooled) in its release, first taking a shared
	// lock on the release row (entries run side by side; a draw waits for
	// them and they for it). If one of e.Refs already has an entry in the
	// release it inserts nothing and returns that entry and false. Conflict
	// if the release is drawn, NotFound if it is unknown, Conflict if the
	// id is taken.
	EnterRelease(ctx context.Context, e ReleaseEntry) (ReleaseEntry, bool, error)
	// ReleaseEntry returns one entry; NotFound when unknown.
	ReleaseEntry(ctx context.Context, id string) (ReleaseEntry, error)
	// ReleaseEntries lists a release's entries by ArrivedAt then id.
	ReleaseEntries(ctx context.Context, releaseID string) ([]ReleaseEntry, error)
	// DrawRelease marks release id drawn at drawnAt and opens its held
	// sessions (held → open; cancelled ones stay cancelled), appending a
	// ChangeSession per session opened and a ChangeRelease. NotFound if
	// unknown, Conflict if already drawn.
	DrawRelease(ctx context.Context, id string, drawnAt time.Time) error
	// SetEntryOutcomes stores the Rank, Status, AppointmentID and Reason of
	// each entry (by ID; nothing else changes); NotFound if any is absent.
	SetEntryOutcomes(ctx context.Context, entries []ReleaseEntry) error

	// Idempotency keys.

	// ClaimIdempotency inserts r (Status 0: in flight) unless a record for
	// its account and key exists whose ExpiresAt is after r.CreatedAt; an
	// expired one is replaced. It returns the record now stored and
	// whether r was inserted. In a read-write transaction the row stays
	// locked until the transaction ends.
	ClaimIdempotency(ctx context.Context, r IdempotencyRecord) (IdempotencyRecord, bool, error)
	// CompleteIdempotency stores the answer (Status, Body) of the record
	// r.AccountID/r.Key and, when r.ExpiresAt is set, its new expiry;
	// NotFound if absent.
	CompleteIdempotency(ctx context.Context, r IdempotencyRecord) error
	// DeleteIdempotency deletes one record (absent: nothing happens), so a
	// request that failed without effect can be retried at once.
	DeleteIdempotency(ctx context.Context, accountID, key string) error
	// DeleteIdempotencyBefore deletes records that expired before t and
	// reports how many.
	DeleteIdempotencyBefore(ctx context.Context, before time.Time) (int64, error)

	// The outbox. Its times keep milliseconds (see OutboxMessage).

	// EnqueueMessage inserts m as it is (normally Pending, NextAttemptAt
	// CreatedAt, unclaimed); Conflict if its id is taken, Invalid if the id
	// is not a UUID.
	EnqueueMessage(ctx context.Context, m OutboxMessage) error
	// ClaimMessages claims up to c.Limit pending messages whose
	// NextAttemptAt is at or before c.Now and whose ClaimedUntil is zero or
	// at or before c.Now, earliest NextAttemptAt first, setting ClaimedBy
	// and ClaimedUntil. Rows another transaction holds are skipped, not
	// waited for, so dispatchers on many nodes claim disjoint batches.
	ClaimMessages(ctx context.Context, c MessageClaim) ([]OutboxMessage, error)
	// Messages returns the messages with the given ids that exist, by id
	// (unknown ids are left out). In a read-write transaction their rows
	// stay locked until the transaction ends; they are locked in id order,
	// so two transactions locking overlapping sets do not deadlock.
	Messages(ctx context.Context, ids []string) ([]OutboxMessage, error)
	// UpdateMessages stores each message's delivery fields (Status,
	// Attempts, NextAttemptAt, ClaimedBy, ClaimedUntil, Provider,
	// ProviderRef, SentAt, DoneAt); the kind, payload and creation and
	// expiry times never change. NotFound if any is absent, Invalid if an
	// id is given twice.
	UpdateMessages(ctx context.Context, ms []OutboxMessage) error
	// DeleteMessages deletes messages no longer pending that were created
	// before t, and reports how many.
	DeleteMessages(ctx context.Context, before time.Time) (int64, error)

	// Staff. Stored times are whole seconds, UTC.

	// CreateStaff inserts s; Conflict if its id or mobile hash is taken.
	CreateStaff(ctx context.Context, s Staff) error
	// UpdateStaff replaces the name, role, scope, status and UpdatedAt of
	// the staff member s.ID (never the id, mobile or creation fields);
	// NotFound if absent.
	UpdateStaff(ctx context.Context, s Staff) error
	// Staff returns one staff member; NotFound when unknown.
	Staff(ctx context.Context, id string) (Staff, error)
	// StaffByMobile returns the staff member whose mobile hash is one of
	// hashes (as AccountByMobile); NotFound when none.
	StaffByMobile(ctx context.Context, hashes []string) (Staff, error)
	// StaffList lists staff matching q, by id. CentreID matches staff whose
	// CentreIDs hold it; DistrictID matches district admins of it and staff
	// with a centre in it; StateID matches state and district admins of it
	// and staff with a centre in it; Role matches the role.
	StaffList(ctx context.Context, q StaffQuery) ([]Staff, error)

	// Vaccine lots.

	// CreateLot inserts l; Conflict if the centre already has a lot with
	// that number, NotFound if the centre or the vaccine is unknown.
	CreateLot(ctx context.Context, l Lot) error
	// Lot returns one lot of a centre; NotFound when unknown.
	Lot(ctx context.Context, centreID int64, number string) (Lot, error)
	// Lots lists a centre's lots by number.
	Lots(ctx context.Context, centreID int64) ([]Lot, error)
	// UseLot takes one dose from a lot: Used grows by one unless it has
	// reached Received (Full). NotFound if the lot is unknown. One
	// conditional update, so concurrent doses never overdraw a lot.
	UseLot(ctx context.Context, centreID int64, number string) error

	// Doses.

	// RecordDose inserts d; Conflict if its id is taken or its beneficiary
	// already has a record for d.Dose (a unique constraint, so two
	// concurrent records of one dose leave exactly one).
	RecordDose(ctx context.Context, d Dose) error
	// DoseFacts reads, in one go, what recording dose records for ref at
	// the centre from its lot needs (see DoseFacts): missing things are
	// zero, not errors.
	DoseFacts(ctx context.Context, ref string, centreID int64, lot string) (DoseFacts, error)
	// CommitDose writes a dose and everything that goes with it, as the
	// calls RecordDose(w.Dose), AppendChange(ChangeDose, w.Dose.ID),
	// IssueCertificate(*w.Certificate) when set, EnqueueMessage for each
	// message and UseLot(w.Dose.CentreID, w.Dose.Lot) would, in as few
	// round trips as the store can (one on PostgreSQL). Its errors are
	// theirs: Conflict if the dose (or an id) is taken, Full if the lot is
	// empty, NotFound if the lot is unknown. After an error the caller must
	// roll the transaction back: some of the writes may have been made.
	CommitDose(ctx context.Context, w DoseWrite) error
	// Dose returns one dose record; NotFound when unknown.
	Dose(ctx context.Context, id string) (Dose, error)
	// DosesOf lists a beneficiary's dose records in dose order.
	DosesOf(ctx context.Context, ref string) ([]Dose, error)
	// BeneficiaryAppointments lists the appointments in which ref holds a
	// place (live or cancelled), oldest first, each with all its places.
	BeneficiaryAppointments(ctx context.Context, ref string) ([]Appointment, error)
	// CodeFailure counts one wrong secret code entered for appointment id
	// and returns the appointment's count so far; NotFound if unknown.
	CodeFailure(ctx context.Context, id string) (int, error)
	// CentreQueue lists the live places in appointments of the centre's
	// open sessions on date, by slot then appointment creation then ref,
	// with each beneficiary's name, birth year and gender, and the id of
	// the dose record for the appointment's dose if there is one.
	CentreQueue(ctx context.Context, centreID int64, date Date) ([]QueueEntry, error)

	// Adverse events following immunization.

	// RecordAdverseEvent inserts e; Conflict if its id is taken.
	RecordAdverseEvent(ctx context.Context, e AdverseEvent) error
	// AdverseEvents lists events matching q, newest ReportedAt first (then
	// id descending); BeforeTime/BeforeID continue after a page's last.
	AdverseEvents(ctx context.Context, q AdverseEventQuery) ([]AdverseEvent, error)

	// Certificates.

	// IssueCertificate inserts c as its beneficiary's current certificate
	// and marks the one it replaces (the current one of c.Ref, if any)
	// superseded by c at c.IssuedAt, in one go. Conflict if c.ID is taken.
	// Concurrent issues for one beneficiary take turns (the second sees the
	// first as the one it replaces), so a beneficiary never has two current
	// certificates.
	IssueCertificate(ctx context.Context, c Certificate) error
	// CurrentCertificate returns the beneficiary's current certificate;
	// NotFound when it has none.
	CurrentCertificate(ctx context.Context, ref string) (Certificate, error)
	// Certificate returns one certificate by id; NotFound when unknown.
	Certificate(ctx context.Context, id string) (Certificate, error)
	// SupersededCertificates lists the superseded certificates whose
	// SupersededAt is after since, oldest supersession first (then by id),
	// at most limit (0: the store's default): the revocation list is built
	// from them.
	SupersededCertificates(ctx context.Context, since time.Time, limit int) ([]Certificate, error)

	// Captcha challenges (see CaptchaChallenge). Stored times are whole
	// seconds, UTC.

	// PutCaptcha stores c as its account's one challenge, replacing any
	// previous one (drawing a new captcha voids the old). Invalid if the
	// account id is not a UUID.
	PutCaptcha(ctx context.Context, c CaptchaChallenge) error
	// TakeCaptcha returns the account's challenge and deletes it, in one
	// statement: of concurrent takes on any node, exactly one gets it, so
	// an answer is checked at most once. NotFound when there is none.
	// Expiry is the caller's to judge.
	TakeCaptcha(ctx context.Context, accountID string) (CaptchaChallenge, error)

	// Stored alert subscriptions (see AlertSubscription). Stored times are
	// whole seconds, UTC. Every write records a ChangeAlertSubscription
	// (key: the subscription id), so each node's alert hub follows.

	// CreateAlertSubscription inserts s; Conflict if its id is taken,
	// Invalid if it fails ValidateNew.
	CreateAlertSubscription(ctx context.Context, s AlertSubscription) error
	// AlertSubscriptionsOf lists an account's subscriptions, oldest first
	// (then by id). In a read-write transaction it first excludes, until
	// the transaction ends, every other read-write AlertSubscriptionsOf of
	// the same account on every node: a caller that counts them before
	// CreateAlertSubscription in the same transaction cannot pass a
	// per-account cap, whatever runs concurrently.
	AlertSubscriptionsOf(ctx context.Context, accountID string) ([]AlertSubscription, error)
	// AlertSubscriptions lists every subscription by id, for a node
	// loading its alert hub.
	AlertSubscriptions(ctx context.Context) ([]AlertSubscription, error)
	// AlertSubscription returns one subscription; NotFound when unknown.
	AlertSubscription(ctx context.Context, id string) (AlertSubscription, error)
	// DeleteAlertSubscription deletes one subscription; NotFound if absent.
	DeleteAlertSubscription(ctx context.Context, id string) error
	// MarkAlertTexted sets the subscription's LastTextedAt to at (whole
	// seconds) only if it is zero or at least every before at, in one
	// conditional update, and reports whether it did. It is the
	// deployment-wide SMS throttle: every node sees the same release, and
	// of those marking one subscription for it exactly one is told true
	// (and texts). NotFound if the subscription is absent, Invalid if
	// every is not positive.
	MarkAlertTexted(ctx context.Context, id string, at time.Time, every time.Duration) (bool, error)
}

// CentreQuery selects centres. Zero fields do not filter. Pages are keyset:
// pass the last id seen as AfterID.
type CentreQuery struct {
	DistrictID int
	Pincode    int
	AfterID    int64
	Limit      int // 0: the store's default (1000); never more than 10000
}

// SessionQuery selects sessions. Zero fields do not filter; From and To are
// inclusive. Pages are keyset by id: pass the last id seen as AfterID.
type SessionQuery struct {
	CentreID   int64
	DistrictID int
	Pincode    int
	From, To   Date
	AfterID    string
	Limit      int // 0: the store's default (1000); never more than 10000
}

// Query limits shared by the stores.
const (
	DefaultLimit = 1000
	MaxLimit     = 10000
)

// PageSize returns the limit a store applies for a requested limit.
func PageSize(limit int) int {
	if limit <= 0 {
		return DefaultLimit
	}
	return min(limit, MaxLimit)
}

// ChangeKind says what kind of thing changed. Later capabilities add kinds.
type ChangeKind string

// The change kinds.
const (
	ChangeCentre  ChangeKind = "centre"  // key: centre id
	ChangeSession ChangeKind = "session" // key: session id
	// ChangeTokenRevoked: a logout revoked a sign-in session; every node
	// adds it to its in-memory revocation set. Key: the revoked id.
	ChangeTokenRevoked ChangeKind = "token.revoked"
	// ChangeStaff: a staff member was created or changed (role, scope,
	// suspension); every node drops its cached copy. Key: the staff id.
	ChangeStaff ChangeKind = "staff"
	// ChangeDose: a dose was recorded, the domain event certificates and
	// the dashboard consume. Key: the dose id.
	ChangeDose ChangeKind = "dose"
	// ChangeNode: a node is alive (a heartbeat every 10 s); every node
	// counts the live ones to take its share of global limits
	// (internal/cluster). Key: the node's random id.
	ChangeNode ChangeKind = "node"
	// ChangeRelease: a fair release was created or drawn; nodes schedule
	// its draw and tell its entrants the outcome. Key: the release id.
	ChangeRelease ChangeKind = "release"
	// ChangeAlertSubscription: a stored alert subscription was created,
	// texted or deleted; every node re-reads it into its alert hub. Key:
	// the subscription id.
	ChangeAlertSubscription ChangeKind = "alert.subscription"
)

// Change is one entry of the change feed.
type Change struct {
	Seq  int64
	Kind ChangeKind
	Key  string
	At   time.Time // when it was recorded (UTC, whole seconds)
}
