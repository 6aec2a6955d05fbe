package cluster

import (
	"fmt"
	"strings"
	"time"

	"github.com/zabkit/zabkit/sim"
	"github.com/zabkit/zabkit/sim/hostio"
)

// FailKind classifies a failed run.
type FailKind uint8

const (
	// FailSafety: a ZAB invariant (checker) or the state machines' agreement broke.
	FailSafety FailKind = iota + 1
	// FailLiveness: after the heal, no leader or no commit within the bound.
	FailLiveness
	// FailPanic: the core (or the host) panicked, typically a broken internal invariant.
	FailPanic
	// FailStorage: storage refused what zab asked, or handed back what zab refused.
	FailStorage
	// FailCodec: a message did not survive marshal/unmarshal.
	FailCodec
	// FailConfig: the options were invalid.
	FailConfig
)

func (k FailKind) String() string {
	switch k {
	case FailSafety:
		return "safety"
	case FailLiveness:
		return "liveness"
	case FailPanic:
		return "panic"
	case FailStorage:
		return "storage"
	case FailCodec:
		return "codec"
	case FailConfig:
		return "config"
	}
	return fmt.Sprintf("FailKind(%d)", uint8(k))
}

// Failure is why a run failed.
type Failure = hostio.Failure[FailKind]

// Stats counts what a run did.
type Stats struct {
	Commits             int // distinct txns committed (delivered somewhere)
	Attempts, Proposed  int // proposals offered to leaders, and accepted by them
	Rejected            int
	Elections           int // leaders established
	Crashes             int // restarts after a crash
	Refusals            int // boots that recovery refused (damaged disk)
	RecoveryCuts        int
	BytesCut            int64 // log bytes recovery cut
	Persists, Syncs     int   // persists made durable, and the group Syncs that did it
	Snapshots           int   // periodic snapshots saved
	SnapInstalls        int   // SNAP syncs restored
	SyncDiff, SyncTrunc int   // sync headers received
	SyncSnap            int
	// LowerEpochFollows counts currentEpoch writes for an epoch below the server's durable
	// acceptedEpoch: an observer following the ensemble's epoch after it accepted a higher
	// one from a failed attempt (zab allows it: an observer's acks promise nothing).
	LowerEpochFollows int
	// LeaderAfterHealTicks is how long after the heal a leader was seen established, and
	// WorstCommitTicks the slowest liveness txn from creation to applied everywhere.
	LeaderAfterHealTicks, WorstCommitTicks int64
	Messages, MessageBytes                 int64
}

// Add sums counters (the maxima stay maxima).
func (s *Stats) Add(o Stats) {
	s.Commits += o.Commits
	s.Attempts += o.Attempts
	s.Proposed += o.Proposed
	s.Rejected += o.Rejected
	s.Elections += o.Elections
	s.Crashes += o.Crashes
	s.Refusals += o.Refusals
	s.RecoveryCuts += o.RecoveryCuts
	s.BytesCut += o.BytesCut
	s.Persists += o.Persists
	s.Syncs += o.Syncs
	s.Snapshots += o.Snapshots
	s.SnapInstalls += o.SnapInstalls
	s.SyncDiff += o.SyncDiff
	s.SyncTrunc += o.SyncTrunc
	s.SyncSnap += o.SyncSnap
	s.LowerEpochFollows += o.LowerEpochFollows
	s.LeaderAfterHealTicks = max(s.LeaderAfterHealTicks, o.LeaderAfterHealTicks)
	s.WorstCommitTicks = max(s.WorstCommitTicks, o.WorstCommitTicks)
	s.Messages += o.Messages
	s.MessageBytes += o.MessageBytes
}

// Result is the outcome of one run.
type Result struct {
	Seed      uint64
	Settings  []sim.Setting
	TraceHash uint64
	Events    int64
	Simulated time.Duration
	Wall      time.Duration
	Stats     Stats
	Failure   *Failure
	// Trace is the whole trace, one event a line, when Options.Record was set.
	Trace []string
	// Buggify lists, per BUGGIFY site asked, how often it was asked and fired (nil without
	// Options.Buggify).
	Buggify []sim.SiteCount
}

// Failed reports whether the run failed.
func (r Result) Failed() bool { return r.Failure != nil }

// SettingsText renders every setting, one a line.
func (r Result) SettingsText() string {
	var b strings.Builder
	for _, s := range r.Settings {
		fmt.Fprintf(&b, "  %-24s %s\n", s.Name, s.Value)
	}
	return b.String()
}

func (c *Cluster) result(wall time.Duration) Result {
	w := c.world
	st := c.stats
	ns := w.Net.Stats()
	st.Messages, st.MessageBytes = ns.Sent, ns.SentBytes
	r := Result{
		Seed: c.opts.Seed, Settings: w.Settings(), TraceHash: w.Trace.Hash(), Events: w.Trace.Len(),
		Simulated: w.Now(), Wall: wall, Stats: st, Failure: c.failure, Buggify: c.buggify.Counts(),
	}
	if c.opts.Record {
		r.Trace = w.Trace.Lines()
	}
	return r
}
