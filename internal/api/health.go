package api

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/vaxport/vaxport/internal/vax"
)

// readyTimeout bounds a readiness check so a hung store answers 503 rather
// than holding the prober.
const readyTimeout = 2 * time.Second

// ReadyCheck is one more condition for readiness, such as an in-memory
// index having loaded; its error (Unavailable) says what is not ready.
type ReadyCheck func(context.Context) error

// Health returns the liveness and readiness handlers.
//
// healthz (for /healthz) answers 200 {"status":"ok"} while the process
// serves HTTP: a load balancer restarts on its failure, so it checks
// nothing else. readyz (for /readyz) answers 200 {"status":"ok"} when the
// store answers a ping and its schema is at exactly the version this binary
// expects, else 503 in the error shape saying which check failed; a load
// balancer sends no traffic to a node that is not ready. Each of checks
// must pass too.
func Health(st vax.Store, checks ...ReadyCheck) (healthz, readyz http.Handler) {
	healthz = HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		return WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	readyz = HandlerFunc(func(w http.ResponseWriter, r *http.Request) error {
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		defer cancel()
		if err := ready(ctx, st); err != nil {
			return err
		}
		for _, check := range checks {
			if err := check(ctx); err != nil {
				return err
			}
		}
		return WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	return healthz, readyz
}

func ready(ctx context.Context, st vax.Store) error {
	if err := st.Ping(ctx); err != nil {
		return vax.Wrap(vax.Unavailable, fmt.Errorf("ping store: %w", err), "store unreachable")
	}
	current, latest, err := st.Migrations(ctx)
	if err != nil {
		return vax.Wrap(vax.Unavailable, fmt.Errorf("read schema version: %w", err), "cannot read the store's schema version")
	}
	switch {
	case current < latest:
		return vax.Errorf(vax.Unavailable, "store schema at version %d, this binary needs %d: run vaxport migrate", current, latest)
	case current > latest:
		return vax.Errorf(vax.Unavailable, "store schema at version %d is newer than this binary's %d: upgrade vaxport", current, latest)
	}
	return nil
}
