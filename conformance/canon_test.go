package conformance

import (
	"slices"
	"strings"
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

// TestCanonicalLinesCompareTheQuorumConfigNode: /zookeeper/config in an ensemble (Stat as seen
// on 3-server ensembles of Apache ZooKeeper 3.8.0 and zabd: czxid = mzxid = ctime = 0,
// version -1, aversion -1, an mtime of when the member wrote its configuration) is compared
// on everything but its ports and the moment of that write; its mtime stays out of the ranks
// of the run's transaction times.
func TestCanonicalLinesCompareTheQuorumConfigNode(t *testing.T) {
	now := time.Now().UnixMilli()
	config := func(ports string, mtime int64) *wire.GetDataResponse {
		d := []byte("server.1=127.0.0.1:" + ports + ":3888:participant;127.0.0.1:2181\nversion=0")
		return &wire.GetDataResponse{Data: d, Stat: wire.Stat{Mtime: mtime, Version: -1, Aversion: -1, DataLength: int32(len(d))}}
	}
	created := func(ctime int64) *wire.Create2Response {
		return &wire.Create2Response{Path: "/p/a", Stat: wire.Stat{Czxid: 0x105, Mzxid: 0x105, Pzxid: 0x105, Ctime: ctime, Mtime: ctime}}
	}
	run := func(ports string, configMtime, ctime int64, mutate func(*wire.GetDataResponse)) *Transcript {
		cfg := config(ports, configMtime)
		if mutate != nil {
			mutate(cfg)
		}
		return &Transcript{Prefix: "/p", Observations: []Observation{
			replied(0, wire.OpCreate2, 0x105, wire.ErrOK, created(ctime)),
			replied(1, wire.OpGetData, 0x105, wire.ErrOK, cfg),
			replied(2, wire.OpMultiRead, 0x105, wire.ErrOK, &wire.MultiResponse{Results: []wire.MultiResult{{Type: wire.OpGetData, Body: cfg}}}),
		}}
	}
	// Written a minute before the run on A, after the run's create on B (which would shift
	// the create's time rank if the config's mtime were ranked), other ports, 4 digits on B.
	a := run("2888", now-60000, now, nil)
	b := run("12888", now+5, now+1, func(r *wire.GetDataResponse) { r.Stat.DataLength++ })
	assert.Equal(t, []string{`s0 getData → replied err=OK(0) zxid=z0 data=config"server.1=127.0.0.1:<port>:<port>:participant;127.0.0.1:<port>\nversion=0" ` +
		`stat={czxid=0 mzxid=0 pzxid=0 ctime=0 mtime=wall version=-1 cversion=0 aversion=-1 owner=0 dataLength=(ports) numChildren=0}`},
		CanonicalLines(a, 3)[2])
	assert.Contains(t, CanonicalLines(b, 3)[1][0], "ctime=t0 mtime=t0", "the config's mtime is not one of the run's ranked times")
	assert.Nil(t, Compare(a, b, make([]Step, 3)), "ports and the configuration's write time are not compared")

	for _, tc := range []struct {
		name   string
		mutate func(*wire.GetDataResponse)
	}{
		{"version 0 (zabd before its fix)", func(r *wire.GetDataResponse) { r.Stat.Version = 0 }},
		{"aversion 0", func(r *wire.GetDataResponse) { r.Stat.Aversion = 0 }},
		{"a cversion", func(r *wire.GetDataResponse) { r.Stat.Cversion = 1 }},
		{"a child", func(r *wire.GetDataResponse) { r.Stat.NumChildren = 1 }},
		{"an owner", func(r *wire.GetDataResponse) { r.Stat.EphemeralOwner = 7 }},
		{"a pzxid", func(r *wire.GetDataResponse) { r.Stat.Pzxid = 0x105 }},
		{"an mtime that is no wall time", func(r *wire.GetDataResponse) { r.Stat.Mtime = 12345 }},
		{"another role", func(r *wire.GetDataResponse) {
			r.Data = []byte(strings.Replace(string(r.Data), "participant", "observer", 1))
		}},
		{"another configuration version", func(r *wire.GetDataResponse) {
			r.Data = []byte(strings.Replace(string(r.Data), "version=0", "version=100000000", 1))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := Compare(a, run("2888", now-60000, now, tc.mutate), make([]Step, 3))
			if assert.NotNil(t, d, "a config node with %s must diverge", tc.name) {
				assert.Equal(t, 1, d.Step, "at the getData:\n%s", d.Report)
			}
		})
	}
	// Once created or written by a transaction (czxid or mzxid set), a node's mtime is ranked
	// as any other's, whatever its path.
	written := run("2888", now, now, func(r *wire.GetDataResponse) { r.Stat.Mzxid = 0x105 })
	assert.Contains(t, CanonicalLines(written, 3)[2][0], "mtime=t0 version=-1", "a written node's mtime is ranked")
}
