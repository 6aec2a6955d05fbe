// The determinism law of zabkit: nothing under zab/ may reach the host. These tests run
// in the module's root package, which holds nothing else.
package zabkit_test

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const module = "github.com/zabkit/zabkit"

// forbidden are the imports that would let the core depend on the host: time, randomness
// that is not injected, the file system, the network, threads, and the host packages.
var forbidden = []string{
	"time", "math/rand", "math/rand/v2", "crypto/rand", "os", "net", "sync", "sync/atomic",
	"syscall", "unsafe",
	module + "/clock", module + "/sim", module + "/netsim", module + "/daemon",
}

func isForbidden(path string) bool {
	if slices.Contains(forbidden, path) {
		return true
	}
	for _, host := range []string{"/clock/", "/sim/", "/netsim/", "/daemon/"} {
		if strings.HasPrefix(path, module+host) {
			return true
		}
	}
	return strings.HasPrefix(path, "os/") || strings.HasPrefix(path, "net/")
}

type listedPackage struct {
	ImportPath string
	Dir        string
	GoFiles    []string
	Imports    []string
}

// lawViolations lists every package of the module reachable from the core whose own
// imports break the law. Standard-library packages are not judged by their internals
// (fmt itself uses sync); what counts is what our packages import.
func lawViolations(pkgs []listedPackage) []string {
	var bad []string
	for _, p := range pkgs {
		if p.ImportPath != module && !strings.HasPrefix(p.ImportPath, module+"/") {
			continue
		}
		for _, imp := range p.Imports {
			if isForbidden(imp) {
				bad = append(bad, fmt.Sprintf("%s imports %s", p.ImportPath, imp))
			}
		}
	}
	return bad
}

// goStatements lists every `go` statement in the given Go files.
func goStatements(files []string) ([]string, error) {
	var found []string
	fset := token.NewFileSet()
	for _, name := range files {
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			return nil, err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if g, ok := n.(*ast.GoStmt); ok {
				found = append(found, fset.Position(g.Pos()).String())
			}
			return true
		})
	}
	return found, nil
}

func listCore(t *testing.T) []listedPackage {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-json", "./zab/...").Output()
	require.NoError(t, err, "go list -deps ./zab/... failed")
	var pkgs []listedPackage
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p listedPackage
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else {
			require.NoError(t, err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// TestCoreImportsNothingOfTheHost enforces DESIGN.md: no package of the module that the
// core depends on imports time, rand, os, net, sync, syscall or a host package.
func TestCoreImportsNothingOfTheHost(t *testing.T) {
	pkgs := listCore(t)
	var core []string
	for _, p := range pkgs {
		if strings.HasPrefix(p.ImportPath, module+"/zab") {
			core = append(core, p.ImportPath)
		}
	}
	require.NotEmpty(t, core, "go list found no package under zab/")
	require.Empty(t, lawViolations(pkgs), "the core must stay pure (DESIGN.md, determinism contract)")
}

// TestCoreStartsNoGoroutine enforces that no non-test file of the core has a go statement.
func TestCoreStartsNoGoroutine(t *testing.T) {
	var files []string
	for _, p := range listCore(t) {
		if strings.HasPrefix(p.ImportPath, module+"/") {
			for _, f := range p.GoFiles {
				files = append(files, filepath.Join(p.Dir, f))
			}
		}
	}
	found, err := goStatements(files)
	require.NoError(t, err)
	require.Empty(t, found, "the core runs on its host's goroutine only")
}

// TestLawChecksCatchViolations shows both checks fail on a core that breaks the law.
func TestLawChecksCatchViolations(t *testing.T) {
	pkgs := []listedPackage{
		{ImportPath: module + "/zab/tree", Imports: []string{"fmt", "sort"}},
		{ImportPath: module + "/zab/node", Imports: []string{"fmt", "time"}},
		{ImportPath: module + "/zab", Imports: []string{module + "/sim/vdisk"}},
		{ImportPath: "fmt", Imports: []string{"os", "sync"}},
	}
	require.Equal(t, []string{
		module + "/zab/node imports time",
		module + "/zab imports " + module + "/sim/vdisk",
	}, lawViolations(pkgs))

	dir := t.TempDir()
	src := filepath.Join(dir, "bad.go")
	require.NoError(t, os.WriteFile(src, []byte("package bad\nfunc f() { go func() {}() }\n"), 0o644))
	found, err := goStatements([]string{src})
	require.NoError(t, err)
	require.Len(t, found, 1)
}
