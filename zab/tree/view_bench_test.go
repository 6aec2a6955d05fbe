package tree

import (
	"fmt"
	"os"
	"strconv"
	"testing"

	"github.com/zabkit/zabkit/zab/wire"
)

// BenchmarkFreeze compares what a host would stall for: serializing the whole tree
// (Snapshot) against freezing it (Freeze) and then applying 1000 setData txns spread over
// the tree, whose first touch of each node copies it and its ancestors (copy-on-write). The
// tree is 1000 parents of znodes of 128 bytes (10k and 100k, or
// ZABKIT_FREEZE_BENCH_NODES).
func BenchmarkFreeze(b *testing.B) {
	sizes := []int{10_000, 100_000}
	if s := os.Getenv("ZABKIT_FREEZE_BENCH_NODES"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			b.Fatalf("ZABKIT_FREEZE_BENCH_NODES=%q: want a positive node count", s)
		}
		sizes = []int{n}
	}
	for _, nodes := range sizes {
		h := newHarness(b, Config{})
		h.openSession(1)
		data := make([]byte, 128)
		for i := range 1000 {
			h.write(1, nil, wire.OpCreate, &wire.CreateRequest{Path: fmt.Sprintf("/p%03d", i), ACL: OpenACL})
		}
		for i := range nodes {
			h.write(1, nil, wire.OpCreate, &wire.CreateRequest{Path: fmt.Sprintf("/p%03d/n%07d", i%1000, i), Data: data, ACL: OpenACL})
		}
		b.Run(fmt.Sprintf("snapshot/nodes=%d", nodes), func(b *testing.B) {
			for b.Loop() {
				h.tree.Snapshot()
			}
		})
		b.Run(fmt.Sprintf("freeze/nodes=%d", nodes), func(b *testing.B) {
			for b.Loop() {
				h.tree.Freeze()
			}
		})
		b.Run(fmt.Sprintf("freeze+1000-setData/nodes=%d", nodes), func(b *testing.B) {
			i := 0
			for b.Loop() {
				h.tree.Freeze()
				for range 1000 {
					i++
					h.write(1, nil, wire.OpSetData, &wire.SetDataRequest{Path: fmt.Sprintf("/p%03d/n%07d", i%1000, i%nodes), Data: data, Version: -1})
				}
			}
		})
		b.Run(fmt.Sprintf("1000-setData-unfrozen/nodes=%d", nodes), func(b *testing.B) {
			h.tree.owned = nil // as a tree never frozen
			i := 0
			for b.Loop() {
				for range 1000 {
					i++
					h.write(1, nil, wire.OpSetData, &wire.SetDataRequest{Path: fmt.Sprintf("/p%03d/n%07d", i%1000, i%nodes), Data: data, Version: -1})
				}
			}
		})
	}
}
