package seed_test

import (
	"testing"

	"github.com/vaxport/vaxport/internal/seed"
)

// BenchmarkGenerateDefault measures the default data set (3 centres per
// district, 7 days) on SQLite: what `serve --demo` waits for on first start.
func BenchmarkGenerateDefault(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		st := openSQLite(b, true)
		b.StartTimer()
		if _, err := seed.Generate(b.Context(), st, seed.Config{Seed: 1, Today: today}); err != nil {
			b.Fatal(err)
		}
	}
}
