package sim

import (
	"fmt"
	"strings"
	"time"
)

// Kind names a trace event.
type Kind uint8

// Trace event kinds.
const (
	KindSend Kind = iota + 1
	KindDeliver
	KindDrop
	KindDuplicate
	KindWake
	KindCrash
	KindRestart
	KindDisk
	KindFault
	KindNote
	// KindTimer is a Host.After callback coming due: Text is "" when it runs, "void" when
	// the host crashed since it was set and it does nothing.
	KindTimer
	// KindNemesis is a nemesis wake-up that injected nothing (say, a crash drawn with
	// DownMax hosts already down). It is a trace line and counts in Len, but stays out of
	// the hash: the hash fingerprints what happened to the world, and a world whose faults
	// were replayed from a schedule (scenarios/failover) instead of drawn by the nemesis
	// must hash the same. The nemesis's draws still reach the hash through the faults it
	// injects afterwards.
	KindNemesis
)

var kindNames = [...]string{
	KindSend: "send", KindDeliver: "deliver", KindDrop: "drop", KindDuplicate: "dup",
	KindWake: "wake", KindCrash: "crash", KindRestart: "restart", KindDisk: "disk",
	KindFault: "fault", KindNote: "note", KindTimer: "timer", KindNemesis: "nemesis",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// Event is one line of the trace.
type Event struct {
	At   time.Duration // global virtual time
	Kind Kind
	Host string // where it happened (the receiver for deliveries and drops)
	Peer string // the other end of a message, if any
	ID   uint64 // message id, or 0
	Size int64  // bytes, or 0
	// Digest is the payload's digest for sends and deliveries (see PayloadDigest), or 0.
	Digest uint64
	Text   string // kind-specific detail
}

// String renders the event as one trace line.
func (e Event) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%14.6fms %-4s %-8s", float64(e.At)/float64(time.Millisecond), e.Host, e.Kind)
	if e.Peer != "" {
		fmt.Fprintf(&b, " peer=%s", e.Peer)
	}
	if e.ID != 0 {
		fmt.Fprintf(&b, " id=%d", e.ID)
	}
	if e.Size != 0 {
		fmt.Fprintf(&b, " size=%d", e.Size)
	}
	if e.Digest != 0 {
		fmt.Fprintf(&b, " digest=%016x", e.Digest)
	}
	if e.Text != "" {
		b.WriteString(" ")
		b.WriteString(e.Text)
	}
	return b.String()
}

// Trace records the run: every event updates a running 64-bit hash, and, when recording
// is on, is kept as well so a failing or diverging run can print it. Hashing every event
// costs a few nanoseconds; formatting lines is left until someone reads them.
type Trace struct {
	hash      uint64
	events    int64
	recording bool
	kept      []Event
	keptMax   int
}

// traceKeptMaxDefault bounds the memory a recording trace may take.
const traceKeptMaxDefault = 5_000_000

// NewTrace returns a trace; with recording it keeps up to traceKeptMaxDefault events.
func NewTrace(recording bool) *Trace {
	return &Trace{hash: fnvOffset, recording: recording, keptMax: traceKeptMaxDefault}
}

const (
	fnvOffset uint64 = 14695981039346656037
	fnvPrime  uint64 = 1099511628211
)

// Add appends an event.
func (t *Trace) Add(e Event) {
	t.events++
	if t.recording && len(t.kept) < t.keptMax {
		t.kept = append(t.kept, e)
	}
	if e.Kind == KindNemesis {
		return
	}
	h := t.hash
	h = mix(h, uint64(e.At))
	h = mix(h, uint64(e.Kind))
	h = mixString(h, e.Host)
	h = mixString(h, e.Peer)
	h = mix(h, e.ID)
	h = mix(h, uint64(e.Size))
	h = mix(h, e.Digest)
	h = mixString(h, e.Text)
	t.hash = h
}

// Hash is the running hash of every event so far but KindNemesis ones.
func (t *Trace) Hash() uint64 { return t.hash }

// Len is the number of events so far.
func (t *Trace) Len() int64 { return t.events }

// Events returns the recorded events (empty unless recording).
func (t *Trace) Events() []Event { return t.kept }

// Lines renders the recorded events, one per line.
func (t *Trace) Lines() []string {
	lines := make([]string, len(t.kept))
	for i, e := range t.kept {
		lines[i] = e.String()
	}
	return lines
}

func mix(h, v uint64) uint64 {
	h ^= v
	h *= fnvPrime
	h ^= h >> 29
	return h
}

func mixString(h uint64, s string) uint64 {
	h = mix(h, uint64(len(s)))
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	return h
}

// FirstDifference compares two recorded traces and describes the first event where they
// differ, with a few events of context; it returns "" when they are identical.
func FirstDifference(a, b []Event) string {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			var s strings.Builder
			fmt.Fprintf(&s, "traces differ at event %d:\n", i)
			for j := max(0, i-3); j < i; j++ {
				fmt.Fprintf(&s, "    both: %s\n", a[j])
			}
			fmt.Fprintf(&s, "   first: %s\n  second: %s", a[i], b[i])
			return s.String()
		}
	}
	if len(a) != len(b) {
		return fmt.Sprintf("traces agree on %d events, then one has %d and the other %d", n, len(a), len(b))
	}
	return ""
}
