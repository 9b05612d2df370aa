package storetest_test

import (
	"testing"

	"github.com/vaxport/vaxport/internal/store/storetest"
)

// TestEveryMethodHasAContract fails when a method is added to vax.Store or
// vax.Tx without a contract subtest.
func TestEveryMethodHasAContract(t *testing.T) {
	if m := storetest.Missing(); len(m) > 0 {
		t.Errorf("interface methods without a contract subtest: %v", m)
	}
}
