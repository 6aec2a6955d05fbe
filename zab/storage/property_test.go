package storage

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"

	"pgregory.net/rapid"
)

// logMachine drives a log through random appends, syncs, truncations and crashes (tearing
// the unsynced tail at random) and checks after every recovery that the log equals a prefix
// of what was appended that holds every entry that was durable.
type logMachine struct {
	fs       *memFS
	cfg      LogConfig
	log      *Log
	appended []Entry // the log as the running node sees it
	durable  int     // appended[:durable] must survive any crash
}

func (m *logMachine) lastZxid() uint64 {
	if len(m.appended) == 0 {
		return 0
	}
	return m.appended[len(m.appended)-1].Zxid
}

func (m *logMachine) Append(t *rapid.T) {
	n := rapid.IntRange(1, 4).Draw(t, "batch")
	var batch []Entry
	z := m.lastZxid()
	for range n {
		if rapid.IntRange(0, 9).Draw(t, "newEpoch") == 0 {
			z = (z>>32 + 1) << 32
		}
		z++
		data := rapid.SliceOfN(rapid.Byte(), 0, 40).Draw(t, "data")
		batch = append(batch, Entry{Zxid: z, Data: data})
	}
	if err := m.log.Append(batch); err != nil {
		t.Fatalf("Append(%d entries after %#x): %v", n, m.lastZxid(), err)
	}
	m.appended = append(m.appended, batch...)
}

func (m *logMachine) Sync(t *rapid.T) {
	durable, err := m.log.Sync()
	if err != nil {
		t.Fatalf("Sync: %v", err)
	}
	if durable != m.lastZxid() {
		t.Fatalf("Sync returned %#x, want the last appended zxid %#x", durable, m.lastZxid())
	}
	m.durable = len(m.appended)
}

func (m *logMachine) Truncate(t *rapid.T) {
	if len(m.appended) == 0 {
		t.Skip("nothing to truncate")
	}
	keep := rapid.IntRange(0, len(m.appended)).Draw(t, "keep")
	zxid := uint64(0)
	if keep > 0 {
		zxid = m.appended[keep-1].Zxid
	}
	if err := m.log.TruncateAfter(zxid); err != nil {
		t.Fatalf("TruncateAfter(%#x): %v", zxid, err)
	}
	if keep < len(m.appended) {
		m.appended = m.appended[:keep]
		m.durable = keep // a cut leaves everything it keeps durable
	}
}

func (m *logMachine) Crash(t *rapid.T) {
	torn := false
	m.fs.crash(func(name string, n int) int {
		k := rapid.IntRange(0, n).Draw(t, "keepUnsynced "+name)
		torn = torn || k > 0
		return k
	})
	log, cuts, err := OpenLog(m.fs, m.cfg)
	if err != nil {
		t.Fatalf("recovery after a crash must succeed (crashes only tear the tail): %v", err)
	}
	got, err := log.EntriesAfter(0)
	if err != nil {
		t.Fatalf("EntriesAfter: %v", err)
	}
	if len(got) < m.durable || len(got) > len(m.appended) {
		t.Fatalf("recovered %d entries, want between %d (durable) and %d (appended); cuts %v", len(got), m.durable, len(m.appended), cuts)
	}
	for i, e := range got {
		if e.Zxid != m.appended[i].Zxid || !bytes.Equal(e.Data, m.appended[i].Data) {
			t.Fatalf("recovered entry %d = %#x %q, appended %#x %q", i, e.Zxid, e.Data, m.appended[i].Zxid, m.appended[i].Data)
		}
	}
	if !torn && len(cuts) > 0 {
		t.Fatalf("no unsynced byte survived, yet recovery cut %v", cuts)
	}
	if log.LastZxid() != zxidOf(got) || log.DurableZxid() != zxidOf(got) {
		t.Fatalf("after recovery LastZxid %#x DurableZxid %#x, want both %#x", log.LastZxid(), log.DurableZxid(), zxidOf(got))
	}
	m.log, m.appended, m.durable = log, m.appended[:len(got)], len(got)
}

func zxidOf(es []Entry) uint64 {
	if len(es) == 0 {
		return 0
	}
	return es[len(es)-1].Zxid
}

func TestLogPropertyRecoveryReturnsAPrefixHoldingEveryDurableEntry(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		fs := newMemFS()
		cfg := LogConfig{SegmentBytesMax: int64(rapid.IntRange(40, 400).Draw(t, "segmentBytesMax"))}
		log, _, err := OpenLog(fs, cfg)
		if err != nil {
			t.Fatal(err)
		}
		m := &logMachine{fs: fs, cfg: cfg, log: log}
		t.Repeat(rapid.StateMachineActions(m))
		m.Crash(t)
	})
}

// Check holds after every action: the log's view of itself matches the model's.
func (m *logMachine) Check(t *rapid.T) {
	if m.log.LastZxid() != m.lastZxid() {
		t.Fatalf("LastZxid %#x, last appended %#x", m.log.LastZxid(), m.lastZxid())
	}
	if d := zxidOf(m.appended[:m.durable]); m.log.DurableZxid() < d || m.log.DurableZxid() > m.lastZxid() {
		t.Fatalf("DurableZxid %#x, want between %#x (synced) and %#x (appended)", m.log.DurableZxid(), d, m.lastZxid())
	}
}

// FuzzOpenLog feeds arbitrary bytes as a segment file. Recovery must never panic, and what
// it returns must be exactly the valid prefix of the bytes: a header and records that each
// re-encode to the bytes they were read from (so their checksums verified).
func FuzzOpenLog(f *testing.F) {
	base := zx(1, 1)
	valid := appendSegmentHeader(nil, base, 0)
	for _, e := range txns(1, 1, 4) {
		valid = appendRecord(valid, e)
	}
	f.Add(valid)
	f.Add(valid[:len(valid)-3])
	f.Add(append(append([]byte(nil), valid...), make([]byte, 32)...))
	f.Add([]byte{})
	corrupt := append([]byte(nil), valid...)
	corrupt[30] ^= 4
	f.Add(corrupt)
	f.Fuzz(func(t *testing.T, content []byte) {
		fs := newMemFS()
		setContent(fs, segmentName(base), content)
		log, cuts, err := OpenLog(fs, LogConfig{RecordBytesMax: 1 << 16})
		if err != nil {
			if _, ok := err.(*CorruptionError); !ok {
				t.Fatalf("recovery failed with %v, want nil or a *CorruptionError", err)
			}
			return
		}
		got, err := log.EntriesAfter(0)
		if err != nil {
			t.Fatalf("EntriesAfter after a successful recovery: %v", err)
		}
		want := appendSegmentHeader(nil, base, 0)
		for _, e := range got {
			want = appendRecord(want, e)
		}
		if len(got) > 0 && !bytes.HasPrefix(content, want) {
			t.Fatalf("recovered %d entries that are not the input's prefix (cuts %v)", len(got), cuts)
		}
		if len(got) == 0 && len(log.Segments()) != 0 {
			t.Fatalf("a segment with no valid record was kept: %v", log.Segments())
		}
		if len(got) > 0 && len(content) > len(want) && len(cuts) != 1 {
			t.Fatalf("%d bytes beyond the valid prefix but cuts %v", len(content)-len(want), cuts)
		}
	})
}

// FuzzLoadSnapshot feeds arbitrary bytes as a snapshot file: loading never panics and
// returns a body only when the file is exactly that body's encoding.
func FuzzLoadSnapshot(f *testing.F) {
	z := zx(3, 9)
	valid := encodeSnapshot(z, []byte("some tree"))
	f.Add(valid)
	f.Add(valid[:20])
	f.Add(binary.LittleEndian.AppendUint64(valid[:16:16], 1<<62))
	f.Fuzz(func(t *testing.T, content []byte) {
		fs := newMemFS()
		setContent(fs, snapshotName(z), content)
		snap, ok, skipped, err := LoadSnapshot(fs)
		if err != nil {
			t.Fatalf("LoadSnapshot: %v", err)
		}
		if ok != (len(skipped) == 0) {
			t.Fatalf("ok=%v with skipped %v: a single file is either loaded or skipped", ok, skipped)
		}
		if ok && !bytes.Equal(encodeSnapshot(z, snap.Data), content) {
			t.Fatal("loaded a snapshot whose bytes are not its own encoding")
		}
		if _, err := decodeEpoch(content); err == nil && len(content) != epochFileBytes {
			t.Fatal(fmt.Sprintf("decoded an epoch from %d bytes", len(content)))
		}
	})
}
