package daemon

import (
	"fmt"
	"strings"

	"github.com/zabkit/zabkit/zab/tree"
)

// The watch words wchs, wchc and wchp print the data-watch table of this server's sessions
// as Apache ZooKeeper 3.8.0's WatchCommand does (DataTree.dumpWatchesSummary and dumpWatches
// on dataWatches: child watches are not in it), then the blank line of its final println.
// Apache lists its HashMaps' order; zabd lists sessions and paths in increasing order.

// dataWatchTable reads the node's data-watch table on the node goroutine.
func (s *Server) dataWatchTable() (tree.DataWatchTable, bool) {
	var t tree.DataWatchTable
	ok := s.query(func() { t = s.node.DataWatchTable() })
	return t, ok
}

// wchs is WatchManager.toString: the watchers (a connection whose data watches all fired
// still counts until it closes), the watched paths and the (session, path) entries.
func wchs(t tree.DataWatchTable) string {
	return fmt.Sprintf("%d connections watching %d paths\nTotal watches:%d\n", len(t.Watchers), t.Paths(), len(t.Entries))
}

// wchc is dumpWatches(byPath = false): each watcher's session id, then its paths indented.
func wchc(t tree.DataWatchTable) string {
	var b strings.Builder
	entries := t.Entries
	for _, session := range t.Watchers {
		fmt.Fprintf(&b, "0x%x\n", uint64(session))
		for len(entries) > 0 && entries[0].SessionID == session {
			fmt.Fprintf(&b, "\t%s\n", entries[0].Path)
			entries = entries[1:]
		}
	}
	b.WriteByte('\n')
	return b.String()
}

// wchp is dumpWatches(byPath = true): each watched path, then its sessions indented.
func wchp(t tree.DataWatchTable) string {
	var b strings.Builder
	last := ""
	for i, e := range t.ByPath() {
		if i == 0 || e.Path != last {
			fmt.Fprintf(&b, "%s\n", e.Path)
			last = e.Path
		}
		fmt.Fprintf(&b, "\t0x%x\n", uint64(e.SessionID))
	}
	b.WriteByte('\n')
	return b.String()
}
