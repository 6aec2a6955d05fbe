package sim

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/zabkit/zabkit/clock"
	"github.com/zabkit/zabkit/netsim"
	"github.com/zabkit/zabkit/zab/storage"
)

// Machine is a deterministic state machine under the DESIGN's contract: one input at a
// time, outputs returned in the order the host must carry them out, and a deadline so the
// world can jump over idle time instead of ticking through it. Time is the host's local
// clock in milliseconds.
type Machine[In, Out any] interface {
	Handle(nowMs int64, in In) []Out
	// NextDeadline is the local time at which the machine wants a tick input, if any.
	NextDeadline() (nowMs int64, ok bool)
}

// Program tells a host how to run one kind of machine: how to build it from what its
// disk holds, how to turn a delivered message and a deadline into inputs, and how to carry
// out its outputs. Program is the seam between a pure core and the simulated world; the
// daemon has its own equivalent over real sockets and files.
type Program[In, Out any] struct {
	// Boot builds the machine at first start and after every restart. It may read the
	// host's disk, which then holds only what was synced before the crash.
	Boot func(h *Host[In, Out]) Machine[In, Out]
	// Message turns a delivered message into an input.
	Message func(from string, payload any) In
	// Tick is the input given when the machine's deadline arrives.
	Tick func() In
	// Execute carries out one output, using the host's Send, Disk, After and Input.
	Execute func(h *Host[In, Out], out Out)
}

// Disk is a host's disk: the storage FS plus the power cut the world inflicts on crash.
type Disk interface {
	storage.FS
	// Crash loses (or tears) everything not yet synced; open files become unusable.
	Crash()
}

// HostOptions configures a host.
type HostOptions struct {
	// Drift is the host's clock skew and drift.
	Drift clock.Drift
	// Disk is the host's disk, kept across crashes; nil for a host with no disk.
	Disk Disk
	// InputsMax bounds the inputs queued while the machine is handling one (default 4096).
	InputsMax int
}

// Host runs one machine in a world: it owns the machine's endpoint, disk, clock reading,
// random stream and timers, and survives the machine's crashes.
type Host[In, Out any] struct {
	world    *World
	name     string
	endpoint netsim.Endpoint
	program  Program[In, Out]
	options  HostOptions
	rng      *rand.Rand
	streams  map[string]*rand.Rand // Stream's, by name

	machine    Machine[In, Out]
	running    bool
	generation uint64 // bumped on every crash; timers of an older generation are void
	wake       *clock.VirtualTimer
	wakeAt     time.Duration

	inbox    []In
	handling bool
	handled  int64
}

// AddHost adds a host running program's machine and boots it.
func AddHost[In, Out any](w *World, name string, program Program[In, Out], o HostOptions) *Host[In, Out] {
	if err := o.Drift.Validate(); err != nil {
		panic(err)
	}
	if o.InputsMax == 0 {
		o.InputsMax = 4096
	}
	h := &Host[In, Out]{world: w, name: name, program: program, options: o, rng: w.Stream("host/" + name)}
	h.endpoint = w.attach(name, h.deliver)
	w.hosts = append(w.hosts, h)
	w.byName[name] = h
	if o.Drift != (clock.Drift{}) {
		w.Set("clock."+name, fmt.Sprintf("offset=%v drift=%dppm", o.Drift.Offset, o.Drift.DriftPPM))
	}
	h.boot()
	return h
}

// Name is the host's name, which is also its network endpoint's name.
func (h *Host[In, Out]) Name() string { return h.name }

// World is the world the host lives in.
func (h *Host[In, Out]) World() *World { return h.world }

// Machine is the running machine, or nil while the host is crashed.
func (h *Host[In, Out]) Machine() Machine[In, Out] { return h.machine }

// Rand is the host's own random stream: a machine gets its randomness through its config,
// typically from this stream. Draws the host makes for the world around the machine (disk
// latency, retransmission delays) belong in named streams (Stream), so that they do not
// shift the machine's draws.
func (h *Host[In, Out]) Rand() *rand.Rand { return h.rng }

// Stream returns the host's random stream called name ("host/<host>/<name>" of the world's
// seed), the same one on every call and across crashes. Each stream is independent of the
// others and of Rand: a new draw from one shifts no other.
func (h *Host[In, Out]) Stream(name string) *rand.Rand {
	r, ok := h.streams[name]
	if !ok {
		if h.streams == nil {
			h.streams = map[string]*rand.Rand{}
		}
		r = h.world.Stream("host/" + h.name + "/" + name)
		h.streams[name] = r
	}
	return r
}

// Disk is the host's disk.
func (h *Host[In, Out]) Disk() Disk { return h.options.Disk }

// NowMs is the host's local clock reading in milliseconds.
func (h *Host[In, Out]) NowMs() int64 {
	return int64(h.options.Drift.Local(h.world.Now()) / time.Millisecond)
}

// Handled is the number of inputs the machine has handled across all its lives.
func (h *Host[In, Out]) Handled() int64 { return h.handled }

// Send sends payload to the endpoint called to.
func (h *Host[In, Out]) Send(to string, payload any, sizeBytes int) {
	h.world.Net.Send(h.endpoint, h.world.Endpoint(to), payload, sizeBytes)
}

// After runs f after d of global time unless the host crashes first: a pending disk
// write or timer dies with the process. Either way its coming due is a trace line, so a
// trace shows every timer the world ran, even one that did nothing.
func (h *Host[In, Out]) After(d time.Duration, f func()) {
	gen := h.generation
	h.world.Clock.AfterFunc(d, func() {
		if !h.running || h.generation != gen {
			h.world.Trace.Add(Event{At: h.world.Now(), Kind: KindTimer, Host: h.name, Text: "void"})
			return
		}
		h.world.Trace.Add(Event{At: h.world.Now(), Kind: KindTimer, Host: h.name})
		f()
	})
}

// Note adds a line about this host to the trace.
func (h *Host[In, Out]) Note(text string) { h.world.Note(h.name, text) }

// Input hands the machine an input. Called while the machine's outputs are being carried
// out, it queues the input until they are done, so outputs keep their order.
func (h *Host[In, Out]) Input(in In) {
	if !h.running {
		return
	}
	if len(h.inbox) >= h.options.InputsMax {
		panic(fmt.Sprintf("sim: host %s queued %d inputs while handling one: a feedback loop", h.name, len(h.inbox)))
	}
	h.inbox = append(h.inbox, in)
	if h.handling {
		return
	}
	h.handling = true
	for i := 0; i < len(h.inbox) && h.running; i++ {
		h.handle(h.inbox[i])
	}
	clear(h.inbox)
	h.inbox = h.inbox[:0]
	h.handling = false
	h.schedule()
}

func (h *Host[In, Out]) handle(in In) {
	h.handled++
	outs := h.machine.Handle(h.NowMs(), in)
	for _, out := range outs {
		if !h.running {
			return
		}
		h.program.Execute(h, out)
	}
}

func (h *Host[In, Out]) deliver(m netsim.Message) {
	if !h.running {
		return
	}
	h.Input(h.program.Message(h.world.names[m.From], m.Payload))
}

// schedule keeps exactly one wake timer, at the machine's next deadline.
func (h *Host[In, Out]) schedule() {
	if !h.running {
		return
	}
	deadlineMs, ok := h.machine.NextDeadline()
	if !ok {
		h.stopWake()
		return
	}
	at := max(h.options.Drift.Global(time.Duration(deadlineMs)*time.Millisecond), h.world.Now())
	if h.wake != nil && h.wakeAt == at {
		return
	}
	h.stopWake()
	h.wakeAt = at
	h.wake = h.world.Clock.At(at, h.fire)
}

func (h *Host[In, Out]) fire() {
	h.wake = nil
	if !h.running {
		return
	}
	h.world.Trace.Add(Event{At: h.world.Now(), Kind: KindWake, Host: h.name})
	h.Input(h.program.Tick())
}

func (h *Host[In, Out]) stopWake() {
	if h.wake != nil {
		h.wake.Stop()
		h.wake = nil
	}
}

func (h *Host[In, Out]) boot() {
	h.running = true
	h.world.Net.SetUp(h.endpoint, true)
	h.machine = h.program.Boot(h)
	h.schedule()
}

func (h *Host[In, Out]) up() bool { return h.running }

func (h *Host[In, Out]) disk() Disk { return h.options.Disk }

func (h *Host[In, Out]) crash() {
	if !h.running {
		return
	}
	h.world.Trace.Add(Event{At: h.world.Now(), Kind: KindCrash, Host: h.name})
	h.running = false
	h.generation++
	h.stopWake()
	h.machine = nil
	clear(h.inbox)
	h.inbox = h.inbox[:0]
	h.world.Net.SetUp(h.endpoint, false)
	if h.options.Disk != nil {
		h.options.Disk.Crash()
	}
}

func (h *Host[In, Out]) restart() {
	if h.running {
		return
	}
	h.world.Trace.Add(Event{At: h.world.Now(), Kind: KindRestart, Host: h.name})
	h.boot()
}
