package checker

import (
	"fmt"
	"strings"
	"time"

	"github.com/zabkit/zabkit/zab/tree"
)

// Names of the client-level checks, as they appear in a Violation.
const (
	CheckLinearizable   = "LinearizableWrites" // porcupine over the partitioned znode model
	CheckWriteOrder     = "WriteRealTimeOrder" // acknowledged writes' zxids follow real time
	CheckSyncRead       = "SyncRead"           // sync+read sees every write acknowledged before the sync
	CheckReadState      = "ReadAtZxid"         // a read returns the tree exactly as of its reply zxid
	CheckWriteReply     = "WriteReply"         // a write's reply is what its committed txn produced
	CheckLostWrite      = "LostWrite"          // an acknowledged write is in the committed order
	CheckSessionFIFO    = "SessionFIFO"        // a session's replies come back in request order
	CheckSessionZxid    = "SessionZxidOrder"   // a session's reply zxids never go backwards
	CheckReadOwnWrite   = "ReadOwnWrite"       // a read never misses the session's own acknowledged write
	CheckCommittedOrder = "CommittedOrder"     // the committed order has increasing zxids and applies
	CheckWatchOneShot   = "WatchOneShot"       // an event belongs to an armed watch and its first trigger
	CheckWatchDelivered = "WatchDelivered"     // an event arrives before any reply at or past its trigger
	CheckEphemeral      = "EphemeralLifetime"  // ephemerals exist exactly while their session lives
	CheckSessionEnd     = "SessionEnd"         // client-seen session ends match the committed order
	CheckRecipe         = "RecipeExclusion"    // at most one lock holder / leader at a time
	CheckMalformed      = "MalformedHistory"   // the history breaks a recording rule of History
)

// Violation is one failed check, with the records that show it.
type Violation struct {
	Check  string
	Detail string
	Ops    []Op
	Events []WatchEvent
	Txns   []CommittedTxn
}

func (v Violation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s", v.Check, v.Detail)
	for _, o := range v.Ops {
		fmt.Fprintf(&b, "\n    op    %v", o)
	}
	for _, e := range v.Events {
		fmt.Fprintf(&b, "\n    event %v", e)
	}
	for _, t := range v.Txns {
		fmt.Fprintf(&b, "\n    txn   zxid %s %s", formatZxid(t.Zxid), describeTxn(t.Txn))
	}
	return b.String()
}

// Report is the verdict on a history.
type Report struct {
	Violations []Violation
	// Visualizations are the porcupine HTML files written for failing partitions.
	Visualizations []string
	// Partitions and LongestPartition describe the linearizability check's work.
	Partitions, LongestPartition int
}

// OK reports whether every check passed.
func (r *Report) OK() bool { return len(r.Violations) == 0 }

// Failed lists the names of the checks that failed, each once, in report order.
func (r *Report) Failed() []string {
	var names []string
	for _, v := range r.Violations {
		if !containsString(names, v.Check) {
			names = append(names, v.Check)
		}
	}
	return names
}

// String is the readable report: one block per violation, then the visualization files.
func (r *Report) String() string {
	if r.OK() {
		return fmt.Sprintf("history ok (%d linearizability partitions, longest %d ops)",
			r.Partitions, r.LongestPartition)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d violation(s):", len(r.Violations))
	for _, v := range r.Violations {
		b.WriteString("\n  ")
		b.WriteString(v.String())
	}
	for _, p := range r.Visualizations {
		fmt.Fprintf(&b, "\n  porcupine visualization: %s", p)
	}
	return b.String()
}

// violationsMax bounds the violations one check keeps: the first ones are the informative
// ones, and a broken server would otherwise produce one per op.
const violationsMax = 50

func (r *Report) add(v Violation) {
	n := 0
	for _, w := range r.Violations {
		if w.Check == v.Check {
			n++
		}
	}
	if n < violationsMax {
		r.Violations = append(r.Violations, v)
	}
}

// Config tunes Check.
type Config struct {
	// Tree is the configuration of the replicas whose committed order is replayed.
	Tree tree.Config
	// PartitionTimeout bounds porcupine's search per partition (default 10 s). Running out
	// of time is a failure: the history is too hard to decide, not correct.
	PartitionTimeout time.Duration
	// VisualizationDir is where failing partitions' HTML goes ("" = the OS temp dir).
	VisualizationDir string
}

const partitionTimeoutDefault = 10 * time.Second

// Check runs every client-level check over h.
func Check(h *History, cfg Config) Report {
	var r Report
	checkRecording(h, &r)
	rp := replayCommitted(h, cfg.Tree, &r)
	CheckSessionOrder(h, &r)
	checkWrites(h, rp, &r)
	CheckWriteZxidOrder(h, &r)
	checkWatches(h, rp, &r)
	checkSessions(h, rp, &r)
	checkRecipes(h, rp, &r)
	CheckLinearizability(h, cfg, &r)
	return r
}

// checkRecording reports records that break History's recording rules in ways the checks
// cannot work around (they skip such records).
func checkRecording(h *History, r *Report) {
	for _, o := range h.Ops {
		if !o.Unknown && o.Return < o.Call {
			r.add(Violation{Check: CheckMalformed, Detail: "op returns before it was called", Ops: []Op{o}})
		}
	}
}

func containsString(s []string, x string) bool {
	for _, y := range s {
		if y == x {
			return true
		}
	}
	return false
}
