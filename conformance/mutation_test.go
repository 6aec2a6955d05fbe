package conformance

import (
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/zabkit/zabkit/zab/wire"
)

// The tests of this file prove that the differential tester catches a difference: target B
// is target B seen through a proxy that changes one kind of reply, and the tester must report
// the divergence at the step whose reply was changed.

// mutation rewrites one server→client frame payload (after the handshake) of a reply to op
// (0 for a notification); nil drops the frame.
type mutation func(op wire.OpCode, payload []byte) []byte

// startProxy listens on 127.0.0.1 and relays every connection to target through mutate.
// It is closed, with its connections, when the test ends.
func startProxy(t *testing.T, target Target, mutate mutation) Target {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var mu sync.Mutex
	var conns []net.Conn
	track := func(c net.Conn) {
		mu.Lock()
		defer mu.Unlock()
		conns = append(conns, c)
	}
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	go func() {
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			server, err := net.Dial("tcp", target.Addr)
			if err != nil {
				_ = client.Close()
				continue
			}
			track(client)
			track(server)
			relay(client, server, mutate)
		}
	}()
	proxied := target
	proxied.Name = target.Name + "-mutated"
	proxied.Addr = ln.Addr().String()
	return proxied
}

// relayFrameBytesMax bounds a relayed frame; oversized requests must still pass through so
// that the server, not the proxy, rejects them.
const relayFrameBytesMax = 16 << 20

func readRawFrame(r io.Reader) ([]byte, error) {
	var n [4]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return nil, err
	}
	size := int32(binary.BigEndian.Uint32(n[:]))
	if size < 0 || size > relayFrameBytesMax {
		return nil, fmt.Errorf("proxy: frame of %d bytes", size)
	}
	p := make([]byte, size)
	_, err := io.ReadFull(r, p)
	return p, err
}

func writeRawFrame(w io.Writer, p []byte) error {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(p)))
	_, err := w.Write(append(b, p...))
	return err
}

// relay copies frames both ways, remembering the op of every request xid so that replies can
// be mutated by op.
func relay(client, server net.Conn, mutate mutation) {
	var mu sync.Mutex
	ops := map[int32]wire.OpCode{}
	closeBoth := func() { _ = client.Close(); _ = server.Close() }
	go func() {
		defer closeBoth()
		for first := true; ; first = false {
			p, err := readRawFrame(client)
			if err != nil {
				return
			}
			if !first && len(p) >= 8 {
				mu.Lock()
				ops[int32(binary.BigEndian.Uint32(p[0:4]))] = wire.OpCode(int32(binary.BigEndian.Uint32(p[4:8])))
				mu.Unlock()
			}
			if writeRawFrame(server, p) != nil {
				return
			}
		}
	}()
	go func() {
		defer closeBoth()
		for first := true; ; first = false {
			p, err := readRawFrame(server)
			if err != nil {
				return
			}
			if !first && len(p) >= 16 {
				h, _ := replyHeader(p)
				mu.Lock()
				op := ops[h.Xid]
				mu.Unlock()
				if h.Xid == wire.XidNotification {
					op = wire.OpNotification
				}
				if p = mutate(op, p); p == nil {
					continue
				}
			}
			if writeRawFrame(client, p) != nil {
				return
			}
		}
	}()
}

// bumpGetDataVersion adds one to Stat.version in successful getData replies: header (16),
// data buffer (4 + length, or 4 for null), then the Stat, whose version is at offset 32.
func bumpGetDataVersion(op wire.OpCode, p []byte) []byte {
	h, _ := replyHeader(p)
	if op != wire.OpGetData || h.Err != wire.ErrOK {
		return p
	}
	n := int32(binary.BigEndian.Uint32(p[16:20]))
	if n < 0 {
		n = 0
	}
	at := 20 + int(n) + 32
	if at+4 > len(p) {
		return p
	}
	binary.BigEndian.PutUint32(p[at:], binary.BigEndian.Uint32(p[at:])+1)
	return p
}

// staleMtime makes setData and getData replies report mtime = ctime, as a server that never
// updates mtime would: the Stat follows the header in a setData reply and the data buffer in
// a getData reply; ctime and mtime are its third and fourth longs.
func staleMtime(op wire.OpCode, p []byte) []byte {
	h, _ := replyHeader(p)
	if h.Err != wire.ErrOK {
		return p
	}
	stat := 16
	switch op {
	case wire.OpSetData:
	case wire.OpGetData:
		n := int32(binary.BigEndian.Uint32(p[16:20]))
		stat = 20 + int(max(n, 0))
	default:
		return p
	}
	if stat+32 > len(p) {
		return p
	}
	copy(p[stat+24:stat+32], p[stat+16:stat+24])
	return p
}

// nodeExistsAsNoNode turns the error NodeExists into NoNode.
func nodeExistsAsNoNode(_ wire.OpCode, p []byte) []byte {
	if h, _ := replyHeader(p); h.Err == wire.ErrNodeExists {
		noNode := int32(wire.ErrNoNode)
		binary.BigEndian.PutUint32(p[12:16], uint32(noNode))
	}
	return p
}

// dropNodeDeleted loses every NodeDeleted notification.
func dropNodeDeleted(op wire.OpCode, p []byte) []byte {
	if op == wire.OpNotification && len(p) >= 20 && wire.EventType(int32(binary.BigEndian.Uint32(p[16:20]))) == wire.EventNodeDeleted {
		return nil
	}
	return p
}

func TestDifferentialReportsAMutatedReply(t *testing.T) {
	a, b := targets(t)
	connect := func(s int) Step { return Step{Session: s, Kind: StepConnect, TimeoutMs: 60000, ReadOnlyByte: true} }
	tests := []struct {
		name     string
		mutate   mutation
		steps    []Step
		wantStep int
		wantA    string
		wantB    string
	}{
		{
			name:   "Stat.version of getData",
			mutate: bumpGetDataVersion,
			steps: []Step{
				connect(0),
				{Session: 0, Kind: StepRequest, Op: wire.OpCreate2, Path: "~/a", ACL: "open", Text: "x"},
				{Session: 0, Kind: StepRequest, Op: wire.OpGetData, Path: "~/a"},
			},
			wantStep: 2, wantA: "version=0", wantB: "version=1",
		},
		{
			name:   "mtime left at ctime by setData",
			mutate: staleMtime,
			steps: []Step{
				connect(0),
				{Session: 0, Kind: StepRequest, Op: wire.OpCreate2, Path: "~/a", ACL: "open", Text: "x"},
				{Session: 0, Kind: StepRequest, Op: wire.OpSetData, Path: "~/a", Text: "y", Version: -1},
				{Session: 0, Kind: StepRequest, Op: wire.OpGetData, Path: "~/a"},
			},
			wantStep: 2, wantA: "ctime=t1 mtime=t2", wantB: "ctime=t1 mtime=t1",
		},
		{
			name:   "error code of a create",
			mutate: nodeExistsAsNoNode,
			steps: []Step{
				connect(0),
				{Session: 0, Kind: StepRequest, Op: wire.OpCreate, Path: "~/a", ACL: "open"},
				{Session: 0, Kind: StepRequest, Op: wire.OpCreate, Path: "~/a", ACL: "open"},
			},
			wantStep: 2, wantA: "err=NodeExists(-110)", wantB: "err=NoNode(-101)",
		},
		{
			name:   "a lost NodeDeleted event",
			mutate: dropNodeDeleted,
			steps: []Step{
				connect(0), connect(1),
				{Session: 0, Kind: StepRequest, Op: wire.OpCreate, Path: "~/a", ACL: "open"},
				{Session: 1, Kind: StepRequest, Op: wire.OpExists, Path: "~/a", Watch: true},
				{Session: 0, Kind: StepRequest, Op: wire.OpDelete, Path: "~/a", Version: -1},
				{Session: 1, Kind: StepRequest, Op: wire.OpSync, Path: "~"},
			},
			wantStep: 5, wantA: `NodeDeleted("~/a" state=3)`, wantB: "",
		},
		{
			// No later request of the watcher reads the event: it is queued when the watcher
			// closes its connection, and must be compared all the same.
			name:   "a lost NodeDeleted event, the watcher then disconnecting",
			mutate: dropNodeDeleted,
			steps: []Step{
				connect(0), connect(1),
				{Session: 0, Kind: StepRequest, Op: wire.OpCreate, Path: "~/a", ACL: "open"},
				{Session: 1, Kind: StepRequest, Op: wire.OpExists, Path: "~/a", Watch: true},
				{Session: 0, Kind: StepRequest, Op: wire.OpDelete, Path: "~/a", Version: -1},
				{Session: 1, Kind: StepDisconnect},
			},
			wantStep: 5, wantA: `NodeDeleted("~/a" state=3)`, wantB: "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mutated := startProxy(t, b, tt.mutate)
			r := Differential(a, mutated, nextPrefix(), tt.steps)
			require.NotNil(t, r.Divergence, "the tester must report the mutated reply; A and B agreed:\n%v", CanonicalLines(r.B, len(tt.steps)))
			d := r.Divergence
			assert.Equal(t, tt.wantStep, d.Step, "divergence reported at the wrong step:\n%s", d.Report)
			lineA, lineB := divergingLines(d.Report)
			assert.Contains(t, lineA, tt.wantA, "A's side of:\n%s", d.Report)
			if tt.wantB != "" {
				assert.Contains(t, lineB, tt.wantB, "B's side of:\n%s", d.Report)
			} else {
				assert.NotContains(t, lineB, tt.wantA, "B's side of:\n%s", d.Report)
			}
			// Without the proxy the same steps agree: the divergence is the mutation's.
			assert.Nil(t, Differential(a, b, nextPrefix(), tt.steps).Divergence)
		})
	}
}

// divergingLines returns the A and B lines marked ≠ in a divergence report.
func divergingLines(report string) (a, b string) {
	lines := strings.Split(report, "\n")
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "≠ A:") && i+1 < len(lines) {
			a += l + "\n"
			b += lines[i+1] + "\n"
		}
	}
	return a, b
}

// TestRapidShrinksAMutatedReply runs the generated property against a mutated target B and
// checks that rapid fails it and shrinks the sequence to a short one whose report shows the
// mutated field.
func TestRapidShrinksAMutatedReply(t *testing.T) {
	if testing.Short() {
		t.Skip("shrinking runs many sequences; skipped with -short")
	}
	a, b := targets(t)
	mutated := startProxy(t, b, nodeExistsAsNoNode)
	for name, value := range map[string]string{"rapid.shrinktime": "10s", "rapid.nofailfile": "true", "rapid.checks": "50"} {
		old := flag.Lookup(name).Value.String()
		require.NoError(t, flag.Set(name, value))
		t.Cleanup(func() { _ = flag.Set(name, old) })
	}
	// Steps that wait (expiry, silent servers, closes) are left out: each shrink attempt reruns
	// the sequence, and the shrink budget must buy many attempts for the test to be stable.
	slow := map[string]bool{"expire": true, "disconnect": true, "reconnect": true, "raw": true, "sasl": true,
		"closeSession": true, "auth": true, "past-limit": true}
	rec := &recordingTB{name: t.Name()}
	rapid.Check(rec, func(rt *rapid.T) {
		steps := Without(DrawSteps(rt, stepsPerSequence), slow)
		if d := Differential(a, mutated, nextPrefix(), steps).Divergence; d != nil {
			rt.Fatalf("%s", d.Report)
		}
	})
	require.True(t, rec.failed, "rapid found no divergence in 50 sequences against a target that turns NodeExists into NoNode; log:\n%s", rec.log.String())
	out := rec.log.String()
	assert.Contains(t, out, "targets diverge at step", "the failure must carry the side-by-side report:\n%s", out)
	assert.Contains(t, out, "NodeExists(-110)", "A's side shows the true error:\n%s", out)
	assert.Contains(t, out, "NoNode(-101)", "B's side shows the mutated error:\n%s", out)
	// The shrunk history: a connect, the create of the node, and the failing create.
	history := out[strings.Index(out, "history (both agree)"):]
	history = history[:strings.Index(history, "diverging")]
	assert.LessOrEqual(t, strings.Count(history, "\n  = "), 8, "rapid should shrink the history to a few lines:\n%s", out)
	t.Logf("rapid's shrunk report:\n%s", out)
}

// recordingTB is a rapid.TB that records the failure instead of failing the test.
type recordingTB struct {
	name   string
	mu     sync.Mutex
	log    strings.Builder
	failed bool
}

func (r *recordingTB) Helper()      {}
func (r *recordingTB) Name() string { return r.name }
func (r *recordingTB) Logf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(&r.log, format+"\n", args...)
}
func (r *recordingTB) Log(args ...any)                  { r.Logf("%s", fmt.Sprint(args...)) }
func (r *recordingTB) Skipf(format string, args ...any) { r.Logf(format, args...) }
func (r *recordingTB) Skip(args ...any)                 { r.Log(args...) }
func (r *recordingTB) SkipNow()                         {}
func (r *recordingTB) Errorf(format string, args ...any) {
	r.Logf(format, args...)
	r.Fail()
}
func (r *recordingTB) Error(args ...any) { r.Log(args...); r.Fail() }
func (r *recordingTB) Fatalf(format string, args ...any) {
	r.Logf(format, args...)
	r.Fail()
}
func (r *recordingTB) Fatal(args ...any) { r.Log(args...); r.Fail() }
func (r *recordingTB) FailNow()          { r.Fail() }
func (r *recordingTB) Fail() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = true
}
func (r *recordingTB) Failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failed
}
