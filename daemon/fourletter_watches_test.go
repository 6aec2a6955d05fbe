package daemon

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/zabkit/zabkit/zab/tree"
)

// TestWatchWordFormats pins wchs, wchc and wchp to Apache ZooKeeper 3.8.0's WatchCommand
// output for a given data-watch table (WatchManager.toString and dumpWatches, then the
// command's final println), with sessions and paths in increasing order.
func TestWatchWordFormats(t *testing.T) {
	negative := int64(-0x7f00000000000000) // a session id of server 129: Long.toHexString prints it unsigned
	table := tree.DataWatchTable{
		Watchers: []int64{negative, 0x100, 0x200, 0x300}, // 0x300's watches all fired: no paths
		Entries: []tree.WatchEntry{
			{SessionID: negative, Path: "/b"},
			{SessionID: 0x100, Path: "/a"}, {SessionID: 0x100, Path: "/b"},
			{SessionID: 0x200, Path: "/a"},
		},
	}
	cases := []struct {
		name  string
		table tree.DataWatchTable
		print func(tree.DataWatchTable) string
		want  string
	}{
		{"wchs", table, wchs, "4 connections watching 2 paths\nTotal watches:4\n"},
		{"wchc", table, wchc, "0x8100000000000000\n\t/b\n0x100\n\t/a\n\t/b\n0x200\n\t/a\n0x300\n\n"},
		{"wchp", table, wchp, "/a\n\t0x100\n\t0x200\n/b\n\t0x8100000000000000\n\t0x100\n\n"},
		{"wchs of no watches", tree.DataWatchTable{}, wchs, "0 connections watching 0 paths\nTotal watches:0\n"},
		{"wchc of no watches", tree.DataWatchTable{}, wchc, "\n"},
		{"wchp of no watches", tree.DataWatchTable{}, wchp, "\n"},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, c.print(c.table), "%s of %+v", c.name, c.table)
	}
}
