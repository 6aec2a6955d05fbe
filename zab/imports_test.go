package zab

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCoreImportsOnlyDeterministicPackages keeps package zab pure: no clock, randomness, I/O,
// concurrency (goroutines, channels) or module packages in its non-test files (shared/DESIGN.md, "Determinism").
func TestCoreImportsOnlyDeterministicPackages(t *testing.T) {
	allowed := map[string]bool{"errors": true, "fmt": true, "slices": true, "sort": true,
		"encoding/binary": true, "math": true, "strings": true, "bytes": true, "io": true,
		"strconv": true, "hash/crc32": true}
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	checked := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		require.NoError(t, err)
		file, err := parser.ParseFile(token.NewFileSet(), f, src, 0)
		require.NoError(t, err, "parse %s", f)
		for _, imp := range file.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			require.True(t, allowed[path], "%s imports %q, which package zab must not use", f, path)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			switch n.(type) {
			case *ast.GoStmt, *ast.ChanType, *ast.SelectStmt:
				t.Errorf("%s: goroutines and channels have no place in the core (%T)", f, n)
			}
			return true
		})
		checked++
	}
	require.Positive(t, checked, "no source files checked")
}
