package conformance

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/zabkit/zabkit/zab/wire"
)

// replied builds the observation of a successful or failed reply.
func replied(step int, op wire.OpCode, zxid int64, err wire.Err, body wire.Record, events ...wire.WatcherEvent) Observation {
	return Observation{Step: step, Session: 0, What: "s0 " + opName(op), Op: op,
		Exchange: &Exchange{Outcome: Replied, Reply: wire.Reply{Header: wire.ReplyHeader{Xid: 1, Zxid: zxid, Err: err}, Body: body}, Events: events}}
}

func TestCanonicalLinesAbstractWhatServersMayChoose(t *testing.T) {
	now := time.Now().UnixMilli()
	const sid = 0x1000000abcd0001
	stat := func(czxid, mzxid, pzxid int64, ctime, mtime int64) wire.Stat {
		return wire.Stat{Czxid: czxid, Mzxid: mzxid, Pzxid: pzxid, Ctime: ctime, Mtime: mtime, EphemeralOwner: sid, DataLength: 1}
	}
	// Raw zxids 0x105, 0x107 (a failed write consumed 0x106), reads at 0x106 and 0x107.
	tr := &Transcript{Prefix: "/p", SessionIDs: map[int64]string{sid: "s0"}, Observations: []Observation{
		replied(0, wire.OpCreate2, 0x105, wire.ErrOK, &wire.Create2Response{Path: "/p/a", Stat: stat(0x105, 0x105, 0x105, now, now)}),
		replied(1, wire.OpCreate, 0x106, wire.ErrNodeExists, nil),
		replied(2, wire.OpSetData, 0x107, wire.ErrOK, &wire.SetDataResponse{Stat: stat(0x105, 0x107, 0x105, now, now+3)}),
		replied(3, wire.OpGetChildren, 0x107, wire.ErrOK, &wire.GetChildrenResponse{Children: []string{"b", "a"}},
			wire.WatcherEvent{Type: wire.EventNodeDataChanged, State: 3, Path: "/p/a"}),
		replied(4, wire.OpGetData, 0x107, wire.ErrOK, &wire.GetDataResponse{Data: nil, Stat: stat(0x105, 0x107, 0x105, now, now-1)}),
	}}
	got := CanonicalLines(tr, 5)
	assert.Equal(t, [][]string{
		nil,
		{`s0 create2 → replied err=OK(0) zxid=z0 path="~/a" stat={czxid=z0 mzxid=z0 pzxid=z0 ctime=t1 mtime=t1 version=0 cversion=0 aversion=0 owner=s0 dataLength=1 numChildren=0}`},
		{`s0 create → replied err=NodeExists(-110) zxid=z0`},
		{`s0 setData → replied err=OK(0) zxid=z1 stat={czxid=z0 mzxid=z1 pzxid=z0 ctime=t1 mtime=t2 version=0 cversion=0 aversion=0 owner=s0 dataLength=1 numChildren=0}`},
		{`s0 getChildren → replied err=OK(0) zxid=z1 children=["a" "b"] events-before=[NodeDataChanged("~/a" state=3)]`},
		{`s0 getData → replied err=OK(0) zxid=z1 data=null stat={czxid=z0 mzxid=z1 pzxid=z0 ctime=t1 mtime=t0(<ctime!) version=0 cversion=0 aversion=0 owner=s0 dataLength=1 numChildren=0}`},
		nil,
	}, got)

	// The same history from a server that does not spend a zxid on the failed write, with
	// other raw values and the children in another order, reads the same.
	tr2 := &Transcript{Prefix: "/p", SessionIDs: map[int64]string{sid + 7: "s0"}, Observations: []Observation{
		replied(0, wire.OpCreate2, 0x200000002, wire.ErrOK, &wire.Create2Response{Path: "/p/a", Stat: stat(0x200000002, 0x200000002, 0x200000002, now+5, now+5)}),
		replied(1, wire.OpCreate, 0x200000002, wire.ErrNodeExists, nil),
		replied(2, wire.OpSetData, 0x200000003, wire.ErrOK, &wire.SetDataResponse{Stat: stat(0x200000002, 0x200000003, 0x200000002, now+5, now+9)}),
		replied(3, wire.OpGetChildren, 0x200000003, wire.ErrOK, &wire.GetChildrenResponse{Children: []string{"a", "b"}},
			wire.WatcherEvent{Type: wire.EventNodeDataChanged, State: 3, Path: "/p/a"}),
		replied(4, wire.OpGetData, 0x200000003, wire.ErrOK, &wire.GetDataResponse{Data: nil, Stat: stat(0x200000002, 0x200000003, 0x200000002, now+5, now+4)}),
	}}
	for i := range tr2.Observations {
		if st := tr2.Observations[i].Exchange.Reply.Body; st != nil {
			forEachStat(st, func(s *wire.Stat) { s.EphemeralOwner = sid + 7 })
		}
	}
	assert.Nil(t, Compare(tr, tr2, make([]Step, 5)), "histories equal up to the abstracted fields")

	// A server whose setData leaves mtime alone: mtime stays ctime's rank, not the setData's.
	good := &Transcript{Prefix: tr.Prefix, SessionIDs: tr.SessionIDs, Observations: slices.Clone(tr.Observations)}
	good.Observations[4] = replied(4, wire.OpGetData, 0x107, wire.ErrOK, &wire.GetDataResponse{Data: nil, Stat: stat(0x105, 0x107, 0x105, now, now+3)})
	stale := &Transcript{Prefix: tr.Prefix, SessionIDs: tr.SessionIDs, Observations: slices.Clone(good.Observations)}
	staleStat := stat(0x105, 0x107, 0x105, now, now)
	stale.Observations[2] = replied(2, wire.OpSetData, 0x107, wire.ErrOK, &wire.SetDataResponse{Stat: staleStat})
	stale.Observations[4] = replied(4, wire.OpGetData, 0x107, wire.ErrOK, &wire.GetDataResponse{Data: nil, Stat: staleStat})
	if d := Compare(good, stale, make([]Step, 5)); assert.NotNil(t, d, "an mtime not moved by setData must diverge") {
		assert.Equal(t, 2, d.Step, "at the setData:\n%s", d.Report)
		assert.Contains(t, d.Report, "ctime=t0 mtime=t0 version=0", "B's setData Stat:\n%s", d.Report)
	}

	// A real difference is reported at its step.
	tr2.Observations[2].Exchange.Reply.Body.(*wire.SetDataResponse).Stat.Version = 1
	d := Compare(tr, tr2, make([]Step, 5))
	if assert.NotNil(t, d) {
		assert.Equal(t, 2, d.Step)
	}
}
