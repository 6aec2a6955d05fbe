package zk

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/zabkit/zabkit/checker"
	"github.com/zabkit/zabkit/sim"
	"github.com/zabkit/zabkit/sim/hostio"
	"github.com/zabkit/zabkit/zab/wire"
)

// FailKind classifies a failed run.
type FailKind uint8

const (
	// FailSafety: a ZAB invariant broke, or replicas disagree at an equal zxid.
	FailSafety FailKind = iota + 1
	// FailCheck: a client-level check of the history failed (checker.Check).
	FailCheck
	// FailLiveness: after the heal, a request or a client stayed unanswered past the bound.
	FailLiveness
	// FailPanic: the node (or the host) panicked, typically a broken internal invariant.
	FailPanic
	// FailStorage: storage refused what the node asked, or the node what storage recovered.
	FailStorage
	// FailCodec: a peer message did not survive marshal/unmarshal.
	FailCodec
	// FailProtocol: a server broke the client protocol (undecodable frame, reply out of
	// request order, a resumed session answered with another id).
	FailProtocol
	// FailConfig: the options were invalid.
	FailConfig
)

func (k FailKind) String() string {
	switch k {
	case FailSafety:
		return "safety"
	case FailCheck:
		return "check"
	case FailLiveness:
		return "liveness"
	case FailPanic:
		return "panic"
	case FailStorage:
		return "storage"
	case FailCodec:
		return "codec"
	case FailProtocol:
		return "protocol"
	case FailConfig:
		return "config"
	}
	return fmt.Sprintf("FailKind(%d)", uint8(k))
}

// Failure is why a run failed.
type Failure = hostio.Failure[FailKind]

// Stats counts what a run did.
type Stats struct {
	Commits                      int // distinct txns committed (sync markers included)
	Elections                    int // leaders established
	Restarts                     int // boots after a crash
	Refusals, RecoveryCuts       int // boots recovery refused; torn tails it cut
	Persists, Syncs              int // persists made durable, and the group Syncs that did it
	Snapshots, SnapInstalls      int // snapshots saved; SNAP syncs installed
	PeerMessages                 int64
	Sessions, Expired            int // sessions established; expiries the clients saw
	Replies, WatchEvents         int // server replies and watch events the clients received
	ConnLosses, ConnBreaks       int // connections the clients lost; of them, broken by a lost packet
	RecipeHolds                  int // lock holds and leaderships
	Pauses                       int // server processes paused (Options.Pauses)
	Auths                        int // addAuth requests answered OK
	HoldersExpired               int // lock holders and leaders whose client saw its session expire while holding
	HotChanges, HotEvents        int // committed changes of HotPath; watch events on it the clients received
	Ops, UnknownOps              int // requests recorded; of them, with an unknown outcome (no reply, or ConnectionLoss)
	Events                       int64
	VirtualTime                  time.Duration
	LongestPartition, Partitions int
}

// Result is the outcome of one run.
type Result struct {
	Seed uint64
	Kind string // Options.Kind
	// FaultPhase is Options.FaultUntil; Bugs names the switches of Options.Bugs that were on.
	FaultPhase time.Duration
	Bugs       string
	Failure    *Failure
	Settings   string
	Stats      Stats
	// TraceHash fingerprints the run: the same seed on the same code gives the same hash.
	TraceHash uint64
	// Report is the checker's verdict (nil when the run failed before the checks).
	Report  *checker.Report
	History *checker.History
	// WallTime is the whole run, CheckTime the client-level checks in it.
	WallTime, CheckTime time.Duration
	// TracePath is the file a failing run's trace was written to.
	TracePath  string
	TraceError error
	// Buggified says the run had Options.Buggify; Buggify lists, per site asked, how often
	// it was asked and fired.
	Buggified bool
	Buggify   []sim.SiteCount
}

// Failed reports whether the run failed.
func (r Result) Failed() bool { return r.Failure != nil }

// DefaultFaultPhase is the fault phase scenarios' TestServers gives swarm and pause
// configurations unless its -fault flag says otherwise.
const DefaultFaultPhase = 3 * time.Second

// ReplayCommand is the command that runs this configuration again: scenarios' TestServers
// with the seed, the kind (Options.Kind, built again by Build), the fault phase when it is
// not DefaultFaultPhase, and -buggify when the run had Options.Buggify. The switches of
// Options.Bugs and the host's deliberate defects are test-only and named in a comment.
func (r Result) ReplayCommand() string {
	var b strings.Builder
	fmt.Fprintf(&b, "go test ./scenarios -run 'TestServers$' -seed=%d -kind=%s", r.Seed, r.Kind)
	if (r.Kind == "swarm" || r.Kind == "pause" || r.Kind == "storm" || r.Kind == "snapsync") && r.FaultPhase != DefaultFaultPhase {
		fmt.Fprintf(&b, " -fault=%v", r.FaultPhase)
	}
	if r.Buggified {
		b.WriteString(" -buggify")
	}
	b.WriteString(" -v")
	if r.Bugs != "" {
		fmt.Fprintf(&b, "  # with %s on, which only sim/zk's tests switch on", r.Bugs)
	}
	return b.String()
}

// String summarizes the run; a failure with everything needed to replay and study it.
func (r Result) String() string {
	var b strings.Builder
	s := r.Stats
	fmt.Fprintf(&b, "seed %d: %v virtual in %v (check %v), %d events, %d commits, %d ops (%d unknown), %d sessions (%d expired), %d elections, %d restarts, %d connection losses, %d watch events, %d recipe holds, %d porcupine partitions (longest %d)",
		r.Seed, s.VirtualTime, r.WallTime.Round(time.Millisecond), r.CheckTime.Round(time.Millisecond), s.Events, s.Commits, s.Ops, s.UnknownOps,
		s.Sessions, s.Expired, s.Elections, s.Restarts, s.ConnLosses, s.WatchEvents, s.RecipeHolds, s.Partitions, s.LongestPartition)
	if r.Failure == nil {
		return b.String()
	}
	fmt.Fprintf(&b, "\nFAILED: %v\nsettings:\n%s", r.Failure, r.Settings)
	if r.Buggified {
		fmt.Fprintf(&b, "buggify asked/fired: %v\n", r.Buggify)
	}
	if r.TracePath != "" {
		fmt.Fprintf(&b, "trace: %s\n", r.TracePath)
	}
	if r.TraceError != nil {
		fmt.Fprintf(&b, "trace not written: %v\n", r.TraceError)
	}
	if r.Report != nil {
		for _, v := range r.Report.Visualizations {
			fmt.Fprintf(&b, "porcupine visualization: %s\n", v)
		}
	}
	fmt.Fprintf(&b, "replay: %s", r.ReplayCommand())
	return b.String()
}

func (c *Cluster) result(r Result, wall time.Duration) Result {
	r.Seed, r.Kind, r.Failure, r.Settings, r.WallTime = c.opts.Seed, c.opts.Kind, c.failure, c.world.SettingsText(), wall
	bugs := c.opts.Bugs.Names()
	if c.opts.bug != noBug {
		bugs = append(bugs, c.opts.bug.String())
	}
	r.FaultPhase, r.Bugs = c.opts.FaultUntil, strings.Join(bugs, ",")
	r.TraceHash = c.traceHash()
	r.Buggified, r.Buggify = c.opts.Buggify, c.buggify.Counts()
	s := c.stats
	s.Events, s.VirtualTime = c.events, c.world.Now()
	s.Ops = len(c.rec.h.Ops)
	for i := range c.rec.h.Ops {
		if o := &c.rec.h.Ops[i]; o.Unknown || o.Err == wire.ErrConnectionLoss {
			s.UnknownOps++
		}
	}
	if r.Report != nil {
		s.Partitions, s.LongestPartition = r.Report.Partitions, r.Report.LongestPartition
	}
	r.Stats = s
	return r
}

// traceHash is the hash of the simulation's trace, without the checks' report.
func (c *Cluster) traceHash() uint64 {
	if c.simHash != 0 {
		return c.simHash
	}
	return c.world.Trace.Hash()
}

// writeTrace writes a failing run's trace to a file. A run that did not record its events
// is run again with recording on: the same seed gives the same run (the hashes are
// compared to be sure).
func writeTrace(c *Cluster, o Options) (string, error) {
	if !o.Record {
		o.Record = true
		again, err := New(o)
		if err != nil {
			return "", err
		}
		again.Run()
		if again.traceHash() != c.traceHash() {
			return "", fmt.Errorf("the recording rerun of seed %d diverged (trace hash %016x, first run %016x): nondeterminism",
				o.Seed, again.traceHash(), c.traceHash())
		}
		c = again
	}
	dir := o.OutDir
	if dir == "" {
		dir = os.TempDir()
	}
	path := filepath.Join(dir, fmt.Sprintf("zabkit-zk-seed-%d-trace.txt", o.Seed))
	var b strings.Builder
	fmt.Fprintf(&b, "seed %d\nsettings:\n%s\n", o.Seed, c.world.SettingsText())
	for _, line := range c.world.Trace.Lines() {
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return path, os.WriteFile(path, []byte(b.String()), 0o644)
}
