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
	Standard   bool
	GoFiles    []string
	Imports    []string
}

func inModule(path string) bool { return path == module || strings.HasPrefix(path, module+"/") }

// lawViolations lists every package of the module reachable from the core whose own
// imports break the law: a forbidden import, or any import from outside the standard
// library and the module (a third-party package is code the law was never checked on,
// and it may read the clock or start goroutines behind its API). Standard-library packages
// are not judged by their internals (fmt itself uses sync); what counts is what our
// packages import. pkgs is the whole dependency list, which says which imports are
// standard.
func lawViolations(pkgs []listedPackage) []string {
	standard := map[string]bool{}
	for _, p := range pkgs {
		standard[p.ImportPath] = p.Standard
	}
	var bad []string
	for _, p := range pkgs {
		if !inModule(p.ImportPath) {
			continue
		}
		for _, imp := range p.Imports {
			switch {
			case isForbidden(imp):
				bad = append(bad, fmt.Sprintf("%s imports %s", p.ImportPath, imp))
			case !standard[imp] && !inModule(imp):
				bad = append(bad, fmt.Sprintf("%s imports %s, outside the standard library and the module", p.ImportPath, imp))
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

// listCore runs go list -deps over ./zab/... of the module in dir ("" for this one).
func listCore(t *testing.T, dir string) []listedPackage {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-json", "./zab/...")
	if dir != "" {
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOWORK=off") // the throwaway module alone
	}
	out, err := cmd.Output()
	var stderr []byte
	if ee, ok := err.(*exec.ExitError); ok {
		stderr = ee.Stderr
	}
	require.NoError(t, err, "go list -deps ./zab/... in %q failed: %s", dir, stderr)
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
	pkgs := listCore(t, "")
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
	found, err := goStatements(coreFiles(listCore(t, "")))
	require.NoError(t, err)
	require.Empty(t, found, "the core runs on its host's goroutine only")
}

// coreFiles are the non-test Go files of the module's packages in pkgs.
func coreFiles(pkgs []listedPackage) []string {
	var files []string
	for _, p := range pkgs {
		if strings.HasPrefix(p.ImportPath, module+"/") {
			for _, f := range p.GoFiles {
				files = append(files, filepath.Join(p.Dir, f))
			}
		}
	}
	return files
}

// TestLawChecksCatchViolations shows both checks fail on a core that breaks the law.
func TestLawChecksCatchViolations(t *testing.T) {
	pkgs := []listedPackage{
		{ImportPath: module + "/zab/tree", Imports: []string{"fmt", "sort"}},
		{ImportPath: module + "/zab/node", Imports: []string{"fmt", "time"}},
		{ImportPath: module + "/zab", Imports: []string{module + "/sim/vdisk"}},
		{ImportPath: "fmt", Standard: true, Imports: []string{"os", "sync"}},
		{ImportPath: "sort", Standard: true},
	}
	require.Equal(t, []string{
		module + "/zab/node imports time",
		module + "/zab imports " + module + "/sim/vdisk",
	}, lawViolations(pkgs))
	pkgs = append(pkgs, listedPackage{ImportPath: module + "/zab/wire", Imports: []string{"strings", "golang.org/x/text/unicode/norm"}},
		listedPackage{ImportPath: "strings", Standard: true})
	require.Equal(t, []string{
		module + "/zab/node imports time",
		module + "/zab imports " + module + "/sim/vdisk",
		module + "/zab/wire imports golang.org/x/text/unicode/norm, outside the standard library and the module",
	}, lawViolations(pkgs))

	dir := t.TempDir()
	src := filepath.Join(dir, "bad.go")
	require.NoError(t, os.WriteFile(src, []byte("package bad\nfunc f() { go func() {}() }\n"), 0o644))
	found, err := goStatements([]string{src})
	require.NoError(t, err)
	require.Len(t, found, 1)
}

// TestLawChecksCatchARealModule runs the checks as TestCoreImportsNothingOfTheHost and
// TestCoreStartsNoGoroutine do, with go list, on a throwaway copy of the module's layout
// whose core breaks the law three ways: it imports time, a third-party module (a local
// replace, so nothing is downloaded) and starts a goroutine.
func TestLawChecksCatchARealModule(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		path := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
	}
	write("go.mod", "module "+module+"\n\ngo 1.26\n\nrequire example.com/dep v0.0.0\n\nreplace example.com/dep => ./dep\n")
	write("dep/go.mod", "module example.com/dep\n\ngo 1.26\n")
	write("dep/dep.go", "package dep\n\nfunc Answer() int { return 42 }\n")
	write("zab/good/good.go", "package good\n\nimport \"fmt\"\n\nfunc Say() string { return fmt.Sprint(1) }\n")
	write("zab/bad/bad.go", "package bad\n\nimport (\n\t\"time\"\n\n\t\"example.com/dep\"\n\t\""+module+
		"/zab/good\"\n)\n\nfunc Run() { go func() { _ = time.Now(); _ = dep.Answer(); _ = good.Say() }() }\n")

	pkgs := listCore(t, dir)
	require.ElementsMatch(t, []string{
		module + "/zab/bad imports time",
		module + "/zab/bad imports example.com/dep, outside the standard library and the module",
	}, lawViolations(pkgs), "go list of the throwaway module: %d packages", len(pkgs))
	found, err := goStatements(coreFiles(pkgs))
	require.NoError(t, err)
	require.Len(t, found, 1, "the one go statement of zab/bad: %v", found)
	require.Contains(t, found[0], filepath.Join("zab", "bad", "bad.go"))
}
