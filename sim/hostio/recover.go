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

// Recover reads a member's disk with storage.Recover, the data and the log on the one disk,
// and notes on the host's trace any torn tail it cut. The caller counts the cuts
// (rec.Report) and takes the member out of service on an error: recovery refuses a disk it
// cannot repair, and in production that is the operator's call.
func Recover(disk storage.FS, h Host, segmentBytesMax int64) (*storage.Store, storage.Recovered, error) {
	store, rec, err := storage.Recover(disk, disk, storage.Config{Log: storage.LogConfig{SegmentBytesMax: segmentBytesMax}})
	if !rec.Report.Empty() {
		h.Note("recovery: " + rec.Report.String())
	}
	return store, rec, err
}

// Ensemble lists the member ids of a simulated ensemble: voters 1..voters, then the
// observers after them (a server's name and its id agree: s<id>).
func Ensemble(voters, observers int) (voterIDs, observerIDs []zab.PeerID) {
	for i := 1; i <= voters+observers; i++ {
		if i <= voters {
			voterIDs = append(voterIDs, zab.PeerID(i))
		} else {
			observerIDs = append(observerIDs, zab.PeerID(i))
		}
	}
	return voterIDs, observerIDs
}
