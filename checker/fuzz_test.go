package checker

import (
	"testing"
	"time"

	"github.com/zabkit/zabkit/zab/wire"
)

// FuzzCheck mutates a correct history field by field from the fuzzer's bytes: whatever a
// broken server or recorder produces, Check reports it and never panics (the checker
// must survive the histories it exists to judge).
func FuzzCheck(f *testing.F) {
	f.Add([]byte{0, 3, 7, 1, 5, 200, 2, 9, 4, 3, 1, 1})
	f.Add([]byte{5, 0, 1, 6, 2, 3, 7, 1, 9, 8, 4, 4, 255, 255})
	f.Fuzz(func(t *testing.T, b []byte) {
		base, _ := workload()
		base.finish()
		h := base.h.clone()
		byteAt := func(i int) int {
			if i < len(b) {
				return int(b[i])
			}
			return 0
		}
		for i := 0; i+2 < len(b) && i < 60; i += 3 {
			what, at, v := byteAt(i), byteAt(i+1), byteAt(i+2)
			mutate(h, what, at, v)
		}
		r := Check(h, Config{PartitionTimeout: time.Second, VisualizationDir: t.TempDir()})
		_ = r.String()
	})
}

// mutate changes one field of one record of h, chosen by what and at, to something derived
// from v.
func mutate(h *History, what, at, v int) {
	paths := []string{"/a", "/b", "/c", "/e", "/", "", "/a/b", "bad", "/zookeeper"}
	if n := len(h.Ops); n > 0 && what%14 < 8 {
		o := &h.Ops[at%n]
		switch what % 14 {
		case 0:
			o.Zxid = int64(v) - 3 + o.Zxid
		case 1:
			o.Err = wire.Err(-v)
		case 2:
			o.Unknown = v%2 == 0
		case 3:
			o.Xid = int32(v % 8)
		case 4:
			o.Path = paths[v%len(paths)]
		case 5:
			o.Reply.Data = []byte{byte(v)}
		case 6:
			o.Type = wire.OpCode(v%24 - 11)
			if v >= 230 { // the reads and zxid-0 requests beyond -11..12
				o.Type = []wire.OpCode{wire.OpMultiRead, wire.OpGetEphemerals, wire.OpGetAllChildrenNumber,
					wire.OpGetACL, wire.OpAuth, wire.OpSASL, wire.OpAddWatch, wire.OpRemoveWatches,
					wire.OpSetWatches2}[v%9]
			}
		case 7:
			o.Call, o.Return = int64(v), int64(v/2)
		}
		return
	}
	switch what % 14 {
	case 8:
		if n := len(h.Committed); n > 0 {
			c := &h.Committed[at%n]
			c.Txn.Path = paths[v%len(paths)]
			c.Txn.Type = wire.OpCode(v%22 - 11)
		}
	case 9:
		if n := len(h.Committed); n > 0 {
			h.Committed[at%n].Zxid += int64(v) - 100
		}
	case 10:
		if n := len(h.Events); n > 0 {
			e := &h.Events[at%n]
			e.Type, e.Path, e.AfterXid = wire.EventType(v%6-1), paths[v%len(paths)], int32(v%9)
		}
	case 11:
		h.Recipes = append(h.Recipes, RecipeEvent{Recipe: "r", Kind: RecipeEventKind(v % 3),
			Session: int64(0x100 + v%3), Node: paths[at%len(paths)], Zxid: 1<<32 | int64(v)})
	case 12:
		if n := len(h.Connected); n > 0 {
			c := &h.Connected[at%n]
			c.AppliedZxid, c.Session = 1<<32|int64(v%32), int64(0x100+v%4)
		}
	case 13:
		if n := len(h.Replicas); n > 0 {
			rs := &h.Replicas[at%n]
			rs.Zxid = 1<<32 | int64(v%32)
			rs.Ephemerals = append(rs.Ephemerals, Ephemeral{Path: paths[v%len(paths)], Owner: int64(0x100 + at%4)})
		}
	}
}
