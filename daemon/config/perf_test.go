package config

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestHugeInputIsLinear feeds 1 MiB files of continuations and long lines: parsing must
// stay linear (it would take minutes if continued lines were re-copied) and still answer.
func TestHugeInputIsLinear(t *testing.T) {
	for _, src := range []string{
		strings.Repeat("\\\n", configBytesMax/2),
		"a=" + strings.Repeat("\\\\", configBytesMax/2-2),
		strings.Repeat("k=v\n", configBytesMax/4),
	} {
		_, _, err := Parse(strings.NewReader(src), 0)
		require.Error(t, err, "none of these inputs sets dataDir")
		assert.Contains(t, err.Error(), "dataDir: is not set")
	}
}
