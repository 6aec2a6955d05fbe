package tree

import (
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// childList against a sorted []string, with enough operations to split and merge chunks.
func TestChildListMatchesSortedSlice(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var l childList
		var model []string
		keys := rapid.IntRange(1, 5000).Draw(t, "keySpace")
		pattern := rapid.SampledFrom([]string{"random", "append", "appendDelete", "queue"}).Draw(t, "pattern")
		steps := rapid.IntRange(0, 1500).Draw(t, "steps")
		next := 0
		for step := 0; step < steps; step++ {
			var name string
			insert := pattern == "append" || rapid.IntRange(0, 2).Draw(t, "insertBias") > 0
			switch pattern {
			case "random":
				name = fmt.Sprintf("k%05d", rapid.IntRange(0, keys).Draw(t, "key"))
			case "append", "appendDelete", "queue":
				if insert || len(model) == 0 {
					name, next, insert = fmt.Sprintf("k%07d", next), next+1, true
				} else if pattern == "queue" {
					name = model[0]
				} else {
					name = model[rapid.IntRange(0, len(model)-1).Draw(t, "victim")]
				}
			}
			found, chunk, index := l.find(name)
			i, inModel := slices.BinarySearch(model, name)
			require.Equal(t, inModel, found != nil, "find %s", name)
			switch {
			case insert && !inModel:
				l.insert(chunk, index, &znode{name: name})
				model = slices.Insert(model, i, name)
			case !insert && inModel:
				l.remove(chunk, index)
				model = slices.Delete(model, i, i+1)
			}
		}
		require.Equal(t, len(model), l.len())
		require.Equal(t, nilIfEmpty(model), nilIfEmpty(l.names()))
		for k, c := range l.chunks {
			require.NotEmpty(t, c, "chunk %d is empty", k)
			require.LessOrEqual(t, len(c), chunkMax, "chunk %d", k)
		}
		if pattern == "append" && len(l.chunks) > 1 {
			require.Equal(t, chunkMax, len(l.chunks[0]), "append-only directories stay packed")
		}
	})
}
