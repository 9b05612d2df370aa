// Package alerts owns slot alerts: a citizen (or a partner on a citizen's
// behalf) subscribes to a district or a PIN code with age, dose and vaccine
// filters, and is told when seats open there.
//
// Alerts come from the search index's commits (search.Index.OnCommit),
// which follow the change feed: the Hub compares each changed centre's old
// and new sessions once per commit and fans the resulting events out to the
// subscribers of that centre's district and PIN code. Publish never reads
// the store, so the cost of a change does not grow with the number of
// subscribers polling, and a node serves alerts from memory.
//
// When a session is "released" (the rule Released implements):
//   - it appears with free seats (a new session, or a cancelled one
//     reopened), or
//   - its free seats for the dose asked for go from 0 to more than 0 (a
//     sold-out session gets a cancellation or more capacity), or
//   - its capacity for that dose is raised while seats were already free
//     (a batch of new seats published).
//
// A booking (free seats fall) never alerts, and neither does a single
// cancellation while seats are still free: the subscriber already knows
// that session is open, and a busy session would otherwise alert on every
// cancellation.
//
// Slow subscribers: each subscription buffers at most Config.Buffer
// events; when it is full the oldest is dropped (and counted), so one slow
// reader never blocks the index or other subscribers. Publishing takes a
// per-subscription lock only long enough to append.
//
// SMS: a stream's subscription may opt in; the stream's own goroutine then
// calls Hub.Notify, which texts the account through the durable outbox
// (OutboxTexter) at most once per Config.SMSEvery for the same account and
// filter on this node, reconnects included. Those SMS last as long as the
// stream.
//
// Stored subscriptions (Hub.CreateStored) text without a stream: they live
// in the store (vax.AlertSubscription), every node with SMS alerts keeps
// them in its hub (LoadStored at start, then Changed from the change feed)
// and Publish matches them exactly like streams. Every node sees the same
// commit, so the throttle is the store's: Run, off the index's goroutine,
// marks the subscription texted with one conditional update
// (Tx.MarkAlertTexted) and queues the SMS in the same transaction, and only
// the node whose mark won texts — once per subscription per SMSEvery,
// deployment-wide. Publish hands Run a bounded queue of commits and drops
// (and logs) when Run is that far behind; it never waits for the store.
//
// The package holds rules and in-memory state: it never imports a concrete
// store, database/sql or net/http (OutboxTexter and the stored
// subscriptions go through the vax.Store interface).
package alerts
