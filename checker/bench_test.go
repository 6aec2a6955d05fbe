package checker

import (
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/zabkit/zabkit/zab/tree"
	"github.com/zabkit/zabkit/zab/wire"
)

// splitmix64: the tests' own seeded source, so generated histories are the same everywhere.
type splitmix struct{ s uint64 }

func (r *splitmix) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

func (r *splitmix) intn(n int) int { return int(r.next() % uint64(n)) }

// syntheticHistory makes a linearizable history of about ops porcupine operations over
// keys znodes, clientsPerKey concurrent clients on each: each key is created, then its
// clients alternate setData with a unique value and sync+getData, every op taking 1-20
// ticks and taking effect at a random moment inside its interval. A fraction unknown of
// the sets never get their reply (and took effect or not, at random). Writes get zxids in
// the order they take effect and are listed in Committed (with just the fields the
// linearizability check reads); reads get the zxid of the last write before them.
func syntheticHistory(keys, ops, clientsPerKey int, unknown float64, seed uint64) *History {
	rng := &splitmix{s: seed}
	h := &History{}
	type effect struct {
		at    int64
		key   int
		op    int  // index in h.Ops
		write bool // a create or set (else the read of op)
		lost  bool // an unknown set that never took effect
	}
	var effects []effect
	perKey := ops / keys
	for k := range keys {
		path := fmt.Sprintf("/k%d", k)
		free := make([]int64, clientsPerKey)
		xid := make([]int32, clientsPerKey)
		add := func(c int, call, ret int64, q Request) int {
			id := k*clientsPerKey + c
			xid[c]++
			h.Ops = append(h.Ops, Op{Client: id, Session: int64(0x1000 + id), Xid: xid[c],
				Call: call, Return: ret, Request: q})
			return len(h.Ops) - 1
		}
		effects = append(effects, effect{at: 0, key: k, op: add(0, 0, 1, create(path, "init")), write: true})
		for i := range free {
			free[i] = 2
		}
		for n := 1; n < perKey; n++ {
			c := rng.intn(clientsPerKey)
			call := free[c] + int64(rng.intn(4))
			ret := call + 1 + int64(rng.intn(20))
			at := call + int64(rng.intn(int(ret-call+1)))
			if rng.intn(2) == 0 {
				i := add(c, call, ret, setData(path, fmt.Sprintf("%s-%d-%d", path, c, n), -1))
				e := effect{at: at, key: k, op: i, write: true}
				if float64(rng.next()%1000)/1000 < unknown {
					h.Ops[i].Unknown = true
					e.lost = rng.intn(2) == 0
				}
				effects = append(effects, e)
			} else {
				add(c, call, call+1, syncOp("/"))
				i := add(c, call+1, ret+1, getData(path, false))
				effects = append(effects, effect{at: at, key: k, op: i})
				ret++
			}
			free[c] = ret + 1
		}
	}
	sort.SliceStable(effects, func(i, j int) bool { return effects[i].at < effects[j].at })
	zxid := int64(1) << 32
	var commitAt []int64 // effect time of each committed txn
	value := make([]string, keys)
	version := make([]int32, keys)
	for _, e := range effects {
		o := &h.Ops[e.op]
		switch {
		case e.lost:
		case e.write:
			zxid++
			o.Zxid = zxid
			if o.Type == wire.OpCreate {
				o.Reply.Path = o.Path
				version[e.key] = 0
			} else {
				version[e.key]++
			}
			value[e.key] = string(o.Data)
			commitAt = append(commitAt, e.at)
			h.Committed = append(h.Committed, CommittedTxn{Zxid: zxid,
				Txn: tree.Txn{Type: o.Type, SessionID: o.Session, Cxid: o.Xid, Path: o.Path, Data: o.Data}})
		default:
			o.Zxid = zxid
			o.Reply = Reply{Data: []byte(value[e.key]), Stat: &wire.Stat{Version: version[e.key]}}
		}
	}
	for i := range h.Ops { // a sync answers with the zxid committed when it was called
		if o := &h.Ops[i]; o.Type == wire.OpSync {
			n := sort.Search(len(commitAt), func(j int) bool { return commitAt[j] > o.Call })
			o.Zxid = 1<<32 + int64(n)
		}
	}
	return h
}

func TestSyntheticHistoriesAreLinearizable(t *testing.T) {
	h := syntheticHistory(4, 2000, 10, 0.05, 1)
	var r Report
	CheckLinearizability(h, Config{VisualizationDir: t.TempDir()}, &r)
	require.True(t, r.OK(), r.String())
	require.Equal(t, 4, r.Partitions)

	// Swapping two reads' answers on one key makes it illegal (unless they were equal).
	for i := range h.Ops {
		if h.Ops[i].Type != wire.OpGetData {
			continue
		}
		for j := i + 1; j < len(h.Ops); j++ {
			if h.Ops[j].Type == wire.OpGetData && h.Ops[j].Path == h.Ops[i].Path &&
				string(h.Ops[j].Reply.Data) != string(h.Ops[i].Reply.Data) && h.Ops[j].Call > h.Ops[i].Return+30 {
				h.Ops[i].Reply, h.Ops[j].Reply = h.Ops[j].Reply, h.Ops[i].Reply
				r = Report{}
				CheckLinearizability(h, Config{VisualizationDir: t.TempDir()}, &r)
				require.Equal(t, []string{CheckLinearizable}, r.Failed(), r.String())
				return
			}
		}
	}
	t.Fatal("no pair of reads to swap")
}

// BenchmarkPorcupine measures the linearizability check of synthetic histories of 1k, 10k
// and 100k porcupine operations, 1000 per key, 10 concurrent clients per key, 2% unknown
// sets.
func BenchmarkPorcupine(b *testing.B) {
	for _, ops := range []int{1000, 10000, 100000} {
		h := syntheticHistory(ops/1000, ops, 10, 0.02, uint64(ops))
		b.Run(fmt.Sprintf("ops=%d", ops), func(b *testing.B) {
			var r Report
			for b.Loop() {
				r = Report{}
				CheckLinearizability(h, Config{PartitionTimeout: time.Minute, VisualizationDir: b.TempDir()}, &r)
			}
			if !r.OK() {
				b.Fatal(r.String())
			}
			b.ReportMetric(float64(r.LongestPartition), "ops/partition")
		})
	}
}

// BenchmarkCheck measures every check together over a random run of the fake server (replay
// into zab/tree, reads, writes, watches, sessions, porcupine).
func BenchmarkCheck(b *testing.B) {
	for _, steps := range []int{1000, 10000} {
		f := randomRun(uint64(steps), steps)
		b.Run(fmt.Sprintf("steps=%d", steps), func(b *testing.B) {
			var r Report
			for b.Loop() {
				r = Check(&f.h, Config{VisualizationDir: b.TempDir()})
			}
			if !r.OK() {
				b.Fatal(r.String())
			}
			b.ReportMetric(float64(len(f.h.Ops)), "ops")
			b.ReportMetric(float64(len(f.h.Events)), "events")
		})
	}
}
