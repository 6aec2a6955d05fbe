package hostio

import (
	"fmt"

	"github.com/zabkit/zabkit/zab"
	"github.com/zabkit/zabkit/zab/storage"
)

// ZabRecovered is what zab's constructor takes of what storage.Recover read from the disk
// (DESIGN.md: the node never touches storage; the host recovers and hands it the state).
func ZabRecovered(rec storage.Recovered) zab.Recovered {
	r := zab.Recovered{
		AcceptedEpoch: zab.Epoch(rec.AcceptedEpoch),
		CurrentEpoch:  zab.Epoch(rec.CurrentEpoch),
		SnapshotZxid:  zab.Zxid(rec.Snapshot.Zxid),
		Log:           make([]zab.Txn, len(rec.Entries)),
	}
	for i, e := range rec.Entries {
		r.Log[i] = zab.Txn{Zxid: zab.Zxid(e.Zxid), Data: e.Data}
	}
	return r
}

// BootNote is the trace line of a member's boot from what it recovered.
func BootNote(boot int, rec storage.Recovered) string {
	return fmt.Sprintf("boot %d: acceptedEpoch=%d currentEpoch=%d snapshot=%v logged=%d last=%#x",
		boot, rec.AcceptedEpoch, rec.CurrentEpoch, zab.Zxid(rec.Snapshot.Zxid), len(rec.Entries), rec.LastLoggedZxid)
}
