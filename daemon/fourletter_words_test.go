package daemon

import (
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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

// TestSetTraceMask: stmk reads the eight bytes after the word as a big-endian long, sets the
// trace mask gtmk reads and prints it in decimal with no line end (Apache ZooKeeper 3.8.0's
// NIOServerCnxn.checkFourLetterWord and SetTraceMaskCommand); with fewer than eight bytes
// the connection closes unanswered and the mask stays. Not parallel: the mask is one per
// process, like ZooTrace's.
func TestSetTraceMask(t *testing.T) {
	t.Cleanup(func() { traceMask.Store(defaultTraceMask) })
	e := startEnsemble(t, 1)
	addr := e.Addrs()[0]
	mask := func(v uint64) []byte { return binary.BigEndian.AppendUint64([]byte("stmk"), v) }
	cases := []struct {
		name      string
		send      []byte
		want      string
		gtmkAfter string
	}{
		{"mask 0x1f", mask(0x1f), "31", "31"},
		{"all bits: a negative long", mask(^uint64(0)), "-1", "-1"},
		{"only three mask bytes", []byte("stmk\x00\x00\x01"), "", "-1"},
		{"the default again", mask(defaultTraceMask), "306", "306"},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, send(t, addr, c.send), "stmk answer: %s (sent %q)", c.name, c.send)
		assert.Equal(t, c.gtmkAfter, send(t, addr, []byte("gtmk")), "gtmk after stmk: %s", c.name)
	}

	// The mask may arrive in a later segment than the word.
	conn, err := net.DialTimeout("tcp", addr, waitMax)
	require.NoError(t, err, "dial %s", addr)
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(waitMax))
	_, err = conn.Write(mask(0x2)[:6])
	require.NoError(t, err, "write stmk and two mask bytes")
	time.Sleep(20 * time.Millisecond)
	_, err = conn.Write(mask(0x2)[6:])
	require.NoError(t, err, "write the other six mask bytes")
	out, err := io.ReadAll(conn)
	require.NoError(t, err, "read stmk's answer until the server closes")
	assert.Equal(t, "2", string(out), "stmk with its mask split over two writes")
}
