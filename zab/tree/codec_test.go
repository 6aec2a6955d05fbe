package tree

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zabkit/zabkit/zab/wire"
	"pgregory.net/rapid"
)

var opTxnTypes = []wire.OpCode{wire.OpCreate, wire.OpCreate2, wire.OpCreateContainer, wire.OpCreateTTL,
	wire.OpDelete, wire.OpSetData, wire.OpCheck, wire.OpError}

func subTxnGen(types []wire.OpCode) *rapid.Generator[Txn] {
	return rapid.Custom(func(t *rapid.T) Txn {
		x := Txn{Type: rapid.SampledFrom(types).Draw(t, "type")}
		switch x.Type {
		case wire.OpCreate, wire.OpCreate2, wire.OpCreateContainer, wire.OpCreateTTL:
			x.Path = rapid.String().Draw(t, "path")
			x.Data = dataGen.Draw(t, "data")
			x.ACL = rapid.SliceOfN(rapid.Custom(func(t *rapid.T) wire.ACL {
				return wire.ACL{Perms: wire.Perms(rapid.Int32().Draw(t, "perms")),
					ID: wire.Id{Scheme: rapid.String().Draw(t, "scheme"), ID: rapid.String().Draw(t, "id")}}
			}), 1, 3).Draw(t, "acl")
			x.Owner = rapid.Int64().Draw(t, "owner")
		case wire.OpDelete, wire.OpDeleteContainer:
			x.Path = rapid.String().Draw(t, "path")
		case wire.OpSetData:
			x.Path, x.Data, x.Version = rapid.String().Draw(t, "path"), dataGen.Draw(t, "data"), rapid.Int32().Draw(t, "version")
		case wire.OpSetACL:
			x.Path, x.Version = rapid.String().Draw(t, "path"), rapid.Int32().Draw(t, "version")
			x.ACL = []wire.ACL{{Perms: 1, ID: wire.Id{Scheme: "world", ID: "anyone"}}}
		case wire.OpCheck:
			x.Path, x.Version = rapid.String().Draw(t, "path"), rapid.Int32().Draw(t, "version")
		case wire.OpError:
			x.Err = wire.Err(rapid.Int32().Draw(t, "err"))
		case wire.OpCreateSession:
			x.TimeoutMs = rapid.Int32().Draw(t, "timeout")
		}
		return x
	})
}

var txnGen = rapid.Custom(func(t *rapid.T) Txn {
	top := append([]wire.OpCode{wire.OpMulti, wire.OpCreateSession, wire.OpCloseSession, wire.OpSetACL, wire.OpDeleteContainer}, opTxnTypes...)
	x := subTxnGen(top).Draw(t, "txn")
	if x.Type == wire.OpMulti {
		x.Ops = rapid.SliceOfN(subTxnGen(opTxnTypes), 1, 4).Draw(t, "ops")
	}
	x.SessionID, x.Cxid, x.TimeMs = rapid.Int64().Draw(t, "session"), rapid.Int32().Draw(t, "cxid"), rapid.Int64().Draw(t, "time")
	return x
})

func TestTxnRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		x := txnGen.Draw(t, "txn")
		b := x.Marshal()
		got, err := UnmarshalTxn(b)
		require.NoError(t, err, "decoding %x", b)
		assert.Equal(t, x, got, "Unmarshal(Marshal(x)) == x")
		assert.Equal(t, b, got.Marshal(), "encoding is deterministic")
		for cut := 0; cut < len(b); cut += 1 + len(b)/16 {
			_, err := UnmarshalTxn(b[:cut])
			assert.ErrorIs(t, err, ErrCorrupt, "a txn truncated to %d of %d bytes", cut, len(b))
		}
	})
}

func TestTxnRejectsNesting(t *testing.T) {
	check := Txn{Type: wire.OpCheck, Path: "/"}
	b := (&Txn{Type: wire.OpMulti}).Marshal() // header + count 0
	b = b[:len(b)-4]
	b = append(b, 0, 0, 0, 1, 0, 0, 0, byte(wire.OpMulti), 0, 0, 0, 1, 0, 0, 0, byte(wire.OpCheck))
	b = appendTxnBody(b, &check)
	_, err := UnmarshalTxn(b)
	assert.ErrorIs(t, err, ErrCorrupt, "multi inside multi is not a txn")
	b = (&Txn{Type: wire.OpMulti}).Marshal()
	b = append(b[:len(b)-4], 0, 0, 0, 1, 0xff, 0xff, 0xff, byte(0x100+int(wire.OpCloseSession)))
	_, err = UnmarshalTxn(b)
	assert.ErrorIs(t, err, ErrCorrupt, "closeSession inside multi is not a txn")
}

func FuzzUnmarshalTxn(f *testing.F) {
	for _, x := range []Txn{
		{Type: wire.OpCreate, Path: "/a", Data: []byte("x"), ACL: OpenACL},
		{Type: wire.OpMulti, Ops: []Txn{{Type: wire.OpDelete, Path: "/a"}, {Type: wire.OpError, Err: -2}}},
		{Type: wire.OpCreateSession, SessionID: 5, TimeoutMs: 3000},
	} {
		f.Add(x.Marshal())
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		x, err := UnmarshalTxn(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("decoding %x: error %v does not wrap ErrCorrupt", b, err)
			}
			return
		}
		again, err := UnmarshalTxn(x.Marshal())
		if err != nil {
			t.Fatalf("re-decoding the encoding of %+v (from %x): %v", x, b, err)
		}
		assert.Equal(t, x, again)
	})
}

// randomTree builds a tree with the state machine's random writes, all applied.
func randomTree(t *rapid.T, ext bool) *Tree {
	s := newTreeMachine(t, ext)
	steps := rapid.IntRange(0, 60).Draw(t, "steps")
	for i := 0; i < steps; i++ {
		switch rapid.IntRange(0, 9).Draw(t, "action") {
		case 0:
			s.OpenSession(t)
		case 1:
			s.prepare(t, s.session(t), nil, wire.OpCloseSession, nil)
		case 2, 3:
			s.Multi(t)
		default:
			s.Write(t)
		}
		for len(s.queue) > 0 {
			s.commitOne(t)
		}
	}
	return s.tree
}

func TestSnapshotRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ext := rapid.Bool().Draw(t, "ext")
		tr := randomTree(t, ext)
		snap := tr.Snapshot()
		restored, err := Restore(Config{ExtendedTypesEnabled: ext}, snap)
		require.NoError(t, err)
		assert.Equal(t, tr.Digest(), restored.Digest(), "restore(snapshot(t)) has t's digest")
		assert.Equal(t, snap, restored.Snapshot(), "restore(snapshot(t)) has t's snapshot bytes")
		assert.Equal(t, tr.LastZxid(), restored.LastZxid())
		assert.Equal(t, tr.Sessions(), restored.Sessions())
		assert.Equal(t, tr.Reapable(1<<62, 1, 1000), restored.Reapable(1<<62, 1, 1000), "reapable nodes survive a restore")

		// Any single corrupted byte is detected.
		i := rapid.IntRange(0, len(snap)-1).Draw(t, "corruptAt")
		bad := append([]byte(nil), snap...)
		bad[i] ^= byte(rapid.IntRange(1, 255).Draw(t, "xor"))
		_, err = Restore(Config{ExtendedTypesEnabled: ext}, bad)
		assert.ErrorIs(t, err, ErrCorrupt, "a snapshot with byte %d changed", i)
	})
}

func TestSnapshotIsAFunctionOfTheTree(t *testing.T) {
	// Two replicas apply the same txns, but one has an unrelated ACL slot taken first (as
	// after lists were freed and slots reused in another order): slot numbers differ, the
	// snapshot bytes do not.
	a, b := newHarness(t, Config{}), newHarness(t, Config{})
	b.tree.acls.intern([]wire.ACL{{Perms: 3, ID: wire.Id{Scheme: "ip", ID: "1.1.1.1"}}})
	for _, h := range []*harness{a, b} {
		h.openSession(1)
		h.write(1, aliceIDs, wire.OpCreate, &wire.CreateRequest{Path: "/x", ACL: aliceAll})
		h.write(1, aliceIDs, wire.OpCreate, &wire.CreateRequest{Path: "/y", ACL: ReadACL})
	}
	require.NotEqual(t, a.tree.lookup("/x").acl, b.tree.lookup("/x").acl, "the replicas' ACL slots differ")
	assert.Equal(t, a.tree.Digest(), b.tree.Digest())
	assert.Equal(t, a.tree.Snapshot(), b.tree.Snapshot(), "snapshot bytes depend on the tree only")
}

func FuzzRestore(f *testing.F) {
	h := newHarness(f, Config{})
	h.openSession(1)
	h.mustCreate(1, "/a", wire.ModePersistent)
	h.mustCreate(1, "/a/e", wire.ModeEphemeral)
	for _, snap := range [][]byte{h.tree.Snapshot(), New(Config{}).Snapshot()} {
		f.Add(snap)
		f.Add(snap[:len(snap)-4]) // without its CRC: the fuzz body appends a valid one
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		// Also try the input with a valid checksum appended, so that mutations get past the
		// CRC gate and reach the structural checks.
		withCRC := binary.BigEndian.AppendUint32(append([]byte(nil), b...), crc32.Checksum(b, castagnoli))
		if _, err := Restore(Config{}, withCRC); err != nil && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("restoring %x: error %v does not wrap ErrCorrupt", withCRC, err)
		}
		tr, err := Restore(Config{}, b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("restoring %x: error %v does not wrap ErrCorrupt", b, err)
			}
			return
		}
		again, err := Restore(Config{}, tr.Snapshot())
		if err != nil {
			t.Fatalf("restoring the snapshot of a restored tree: %v", err)
		}
		assert.Equal(t, tr.Digest(), again.Digest())
	})
}

// The fuzzers' checksum gate makes random bytes fail early; this feeds structurally valid
// snapshots with a fixed-up CRC so the decoder's inner checks run too.
func TestRestoreRejectsInconsistentContent(t *testing.T) {
	h := newHarness(t, Config{})
	h.openSession(1)
	h.mustCreate(1, "/a", wire.ModeEphemeral)
	snap := h.tree.Snapshot()
	// Drop the session behind the tree's back: its ephemeral becomes an orphan.
	restored, err := Restore(Config{}, snap)
	require.NoError(t, err)
	delete(restored.sessions, 1)
	restored.digest -= sessionHash(1, 30000)
	_, err = Restore(Config{}, restored.Snapshot())
	assert.ErrorIs(t, err, ErrCorrupt, "an ephemeral of an unknown session")
	_, err = Restore(Config{ExtendedTypesEnabled: true}, snap)
	assert.ErrorIs(t, err, ErrCorrupt, "a snapshot taken with other settings")
}

func TestSnapshotOfEmptyACLNode(t *testing.T) {
	h := newHarness(t, Config{})
	h.openSession(1)
	h.tree.Apply(h.zxid+1, Txn{Type: wire.OpCreate, SessionID: 1, Path: "/open", ACL: nil})
	restored, err := Restore(Config{}, h.tree.Snapshot())
	require.NoError(t, err)
	resp, errCode := restored.GetACL("/open", nil)
	require.Equal(t, wire.ErrOK, errCode, "an empty ACL allows everything")
	assert.Empty(t, resp.ACL)
}
