package instrument_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/vaxport/vaxport/internal/store/instrument"
	"github.com/vaxport/vaxport/internal/store/sqlite"
	"github.com/vaxport/vaxport/internal/vax"
)

func TestWrapRecords(t *testing.T) {
	raw, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "v.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := raw.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	st := instrument.Wrap(raw, reg)
	t.Cleanup(func() { st.Close() })

	if err := st.InTx(t.Context(), func(tx vax.Tx) error { return tx.SetMeta(t.Context(), "k", "v") }); err != nil {
		t.Fatal(err)
	}
	err = st.View(t.Context(), func(tx vax.Tx) error {
		_, err := tx.Meta(t.Context(), "missing")
		return err
	})
	if !errors.Is(err, vax.ErrNotFound) {
		t.Fatalf("View err = %v, want NotFound passed through", err)
	}
	if _, err := st.Changes(t.Context(), 0, 10); err != nil {
		t.Fatal(err)
	}

	if n := testutil.CollectAndCount(reg, "vaxport_store_duration_seconds"); n != 3 {
		t.Errorf("duration series = %d, want 3 (tx, view, changes)", n)
	}
	want := `
# HELP vaxport_store_errors_total Store operations that failed, by operation and error code.
# TYPE vaxport_store_errors_total counter
vaxport_store_errors_total{code="NotFound",op="view"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "vaxport_store_errors_total"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(reg, "vaxport_store_pool_open_connections"); n != 1 {
		t.Errorf("pool gauge series = %d, want 1", n)
	}
}
