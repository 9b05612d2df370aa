package vax_test

import (
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/vaxport/vaxport/"

// TestDependencyArrows keeps the layering of ../shared/DESIGN.md honest:
// the domain imports only the standard library; rule packages never reach a
// store, database/sql or net/http, even indirectly; stores never import
// each other; only cmd/vaxport wires concrete stores.
func TestDependencyArrows(t *testing.T) {
	pkgs := listPackages(t)
	rules := []string{"internal/vax", "internal/auth", "internal/booking", "internal/catalog",
		"internal/cert", "internal/vaccination", "internal/grievance", "internal/seed", "internal/masterdata", "internal/alerts",
		"internal/staff", "internal/certificates", "internal/cluster", "internal/captcha", "internal/release"}
	stores := []string{"internal/store/sqlite", "internal/store/postgres"}
	for _, p := range pkgs {
		rel := strings.TrimPrefix(p.ImportPath, module)
		if strings.HasSuffix(rel, "test") {
			continue // test helpers (storetest, pgtest, searchtest) may open stores
		}
		if rel == "internal/auth/authmetrics" {
			continue // the Prometheus adapter of auth's metrics, not a rule package
		}
		for _, dep := range p.Deps {
			depRel, ours := strings.CutPrefix(dep, module)
			switch {
			case rel == "internal/vax" && (ours || strings.Contains(strings.SplitN(dep, "/", 2)[0], ".")):
				t.Errorf("internal/vax imports %s: the domain imports only the standard library", dep)
			case under(rel, rules...) && (dep == "net/http" || dep == "database/sql" || ours && under(depRel, "internal/store", "internal/api")):
				t.Errorf("rule package %s depends on %s", rel, dep)
			case under(rel, stores...) && ours && under(depRel, stores...) && !under(depRel, rel):
				t.Errorf("store %s imports store %s", rel, depRel)
			case ours && under(depRel, stores...) && !under(rel, "cmd/vaxport") && !under(rel, stores...):
				t.Errorf("%s imports the concrete store %s: only cmd/vaxport wires stores", rel, depRel)
			}
		}
	}
}

func under(pkg string, roots ...string) bool {
	for _, r := range roots {
		if pkg == r || strings.HasPrefix(pkg, r+"/") {
			return true
		}
	}
	return false
}

type listedPackage struct {
	ImportPath string
	Deps       []string
}

func listPackages(t *testing.T) []listedPackage {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("go tool not found")
		}
		t.Skip("go tool not found")
	}
	cmd := exec.CommandContext(t.Context(), goTool, "list", "-json=ImportPath,Deps", module+"...")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []listedPackage
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p listedPackage
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 10 {
		t.Fatalf("go list found only %d packages", len(pkgs))
	}
	return pkgs
}
