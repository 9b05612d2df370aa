// Package sms delivers the outbox's messages: a Dispatcher on every node
// claims due messages from the store, sends them through providers in
// failover order, retries, records outcomes and delivery receipts, and
// reports metrics. It is an adapter: it may use the network and files.
//
// # Delivery
//
// At least once. A message is written to the outbox in the transaction
// that needs it (internal/sms/outbox), so it exists exactly when that
// commits. Dispatchers claim batches with a lease (Tx.ClaimMessages:
// FOR UPDATE SKIP LOCKED on PostgreSQL), so nodes share the work and a
// crashed node's claims come back when its lease ends. Each attempt tries
// the providers in order, skipping those whose circuit breaker is open and
// putting last the one that failed the message before; a provider error
// moves on to the next provider at once, and only when every provider
// failed is the message retried later, with exponential backoff. The
// message id is the same on every attempt and every provider, so a
// duplicate (a retry after an accepted send whose outcome was lost) can be
// recognised downstream. Messages that expire (an OTP past its validity)
// are dropped, never sent late.
//
// Outcomes and receipts are written by one writer goroutine in batched
// transactions; each row moves only forward (pending → sent → delivered or
// failed), so a receipt that overtakes the record of its send, or arrives
// twice, changes nothing twice.
//
// # Providers
//
// Configured by --sms specs (ParseProviders), in failover order:
//
//	file:PATH     one JSON object per line: time, to (10 digits), text, id;
//	              for development, demos and tests (it holds OTPs in clear)
//	http:URL;…    a generic SMS gateway (HTTPConfig)
//	sim:…         a simulated gateway for load tests (SimConfig)
//
// Receipts come from the provider itself (file: at once; sim: after its
// simulated latency) or over HTTP at POST /api/v1/sms/receipts/{provider},
// authenticated by the provider's shared secret (Dispatcher.Receipts).
//
// The package never logs a mobile number, a message text or an OTP: logs
// and errors name message ids and providers only, and metric labels are
// providers and message kinds.
package sms
