package cert_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestNoForbiddenImports keeps the certificate rules and formats away from
// storage and HTTP: they must work in an offline verifier and be callable
// inside a store transaction without doing I/O of their own.
func TestNoForbiddenImports(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("go tool not found")
		}
		t.Skip("go tool not found")
	}
	out, err := exec.CommandContext(t.Context(), goTool, "list", "-deps", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if dep == "net/http" || dep == "database/sql" || strings.HasPrefix(dep, "github.com/vaxport/vaxport/internal/store") || strings.HasPrefix(dep, "github.com/vaxport/vaxport/internal/api") {
			t.Errorf("internal/cert depends on %s", dep)
		}
	}
}
