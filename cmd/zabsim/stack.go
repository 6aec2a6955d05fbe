package main

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/zabkit/zabkit/checker"
	"github.com/zabkit/zabkit/scenarios/failover"
	"github.com/zabkit/zabkit/sim"
	"github.com/zabkit/zabkit/sim/cluster"
	"github.com/zabkit/zabkit/sim/zk"
)

// stack is what a sweep runs on each seed: sim/cluster's bare ZAB peers under a list state
// machine (fast: the protocol, storage and the ZAB checker), or sim/zk's whole zab/node
// servers with simulated ZooKeeper clients (every client-level check as well), in the
// configuration kind zk.Build names (swarm unless -kind says otherwise).
type stack struct {
	name  string
	kind  string // -stack zk: the zk.Build kind of every seed
	build func(seed uint64, duration time.Duration, buggify bool, bugs []string) (built, error)
}

// defaultZKKind is the configuration -stack zk sweeps without -kind.
const defaultZKKind = "swarm"

// built is one seed's configuration, ready to run.
type built interface {
	run(record bool) outcome
}

// stackNamed is the stack of -stack and -kind (kind "": the stack's default).
func stackNamed(name, kind string) (stack, error) {
	switch name {
	case "cluster":
		if kind != "" {
			return stack{}, fmt.Errorf("-kind names a sim/zk configuration (-stack zk), got -kind %s with -stack cluster", kind)
		}
		return stack{name: name, build: buildCluster}, nil
	case "zk":
		if kind == "" {
			kind = defaultZKKind
		}
		if !slices.Contains(zk.Kinds, kind) {
			return stack{}, fmt.Errorf("-kind is one of %s, got %q", strings.Join(zk.Kinds, ", "), kind)
		}
		return stack{name: name, kind: kind, build: func(seed uint64, duration time.Duration, buggify bool, bugs []string) (built, error) {
			return buildZK(kind, seed, duration, buggify, bugs)
		}}, nil
	}
	return stack{}, fmt.Errorf("-stack is cluster or zk, got %q", name)
}

// String names the stack as the summary shows it.
func (s stack) String() string {
	if s.kind == "" {
		return s.name
	}
	return s.name + " (kind " + s.kind + ")"
}

// outcome is one seed's run, whichever stack ran it.
type outcome struct {
	seed      uint64
	failKind  string // "" when the run passed
	failAt    time.Duration
	detail    string
	settings  string // one setting a line
	traceHash uint64
	events    int64
	simulated time.Duration
	wall      time.Duration
	buggified bool
	statsText string
	trace     []sim.Event // when recorded
	// files are what the stack itself wrote for a failure (sim/zk's porcupine pages).
	files   []string
	marks   []mark // the failing ops and events a client-level check named
	cluster cluster.Stats
	zk      zk.Stats
}

func (o outcome) failed() bool { return o.failKind != "" }

type clusterRun struct {
	o    cluster.Options
	bugs []string
}

func buildCluster(seed uint64, duration time.Duration, buggify bool, bugs []string) (built, error) {
	o := cluster.Swarm(seed, duration)
	o.Buggify = buggify
	if len(bugs) > 0 {
		// Check the names now: failover knows them.
		if _, err := (failover.Schedule{Seed: seed, Base: failover.BaseSwarm, FaultsUntil: duration, Bugs: bugs}).Options(); err != nil {
			return nil, err
		}
	}
	return clusterRun{o: o, bugs: bugs}, nil
}

func (c clusterRun) run(record bool) outcome {
	o := c.o
	o.Record = record
	var world *sim.World
	start := o.Hooks.Start
	o.Hooks.Start = func(cl *cluster.Cluster) {
		world = cl.World()
		if start != nil {
			start(cl)
		}
	}
	r, err := failover.RunWithBugs(o, c.bugs)
	if err != nil {
		return outcome{seed: o.Seed, failKind: "config", detail: err.Error()}
	}
	out := outcome{seed: r.Seed, settings: r.SettingsText(), traceHash: r.TraceHash, events: r.Events,
		simulated: r.Simulated, wall: r.Wall, buggified: o.Buggify, cluster: r.Stats,
		statsText: fmt.Sprintf("stats %+v", r.Stats)}
	if r.Failed() {
		out.failKind, out.failAt, out.detail = r.Failure.Kind.String(), r.Failure.At, r.Failure.Detail
	}
	if record && world != nil {
		out.trace = slices.Clone(world.Trace.Events())
	}
	return out
}

type zkRun struct{ o zk.Options }

// buildZK is one seed of a sim/zk kind. The quiet, harsh and lockexpiry kinds have their
// own fault phase and ignore duration (zk.Build).
func buildZK(kind string, seed uint64, duration time.Duration, buggify bool, bugs []string) (built, error) {
	if len(bugs) > 0 {
		return nil, fmt.Errorf("-bug is for -stack cluster")
	}
	o, err := zk.Build(kind, seed, duration)
	if err != nil {
		return nil, err
	}
	o.Buggify = buggify
	return zkRun{o: o}, nil
}

func (z zkRun) run(record bool) outcome {
	o := z.o
	o.Record = record
	var r zk.Result
	var events []sim.Event
	c, err := zk.New(o)
	if err != nil {
		return outcome{seed: o.Seed, failKind: "config", detail: err.Error()}
	}
	r = c.Run()
	if record {
		events = slices.Clone(c.World().Trace.Events())
	}
	out := outcome{seed: r.Seed, settings: r.Settings, traceHash: r.TraceHash, events: r.Stats.Events,
		simulated: r.Stats.VirtualTime, wall: r.WallTime, buggified: r.Buggified, zk: r.Stats, trace: events,
		statsText: fmt.Sprintf("stats %+v", r.Stats)}
	if r.Failed() {
		out.failKind, out.failAt, out.detail = r.Failure.Kind.String(), r.Failure.At, r.Failure.Detail
		if r.Report != nil {
			out.files = r.Report.Visualizations
			out.marks = failingOps(r.Report, r.Stats.VirtualTime)
		}
	}
	return out
}

// zkTotals sums sim/zk's counters over a sweep.
type zkTotals struct{ s zk.Stats }

func (t *zkTotals) add(s zk.Stats) {
	t.s.Commits += s.Commits
	t.s.Elections += s.Elections
	t.s.Restarts += s.Restarts
	t.s.Refusals += s.Refusals
	t.s.RecoveryCuts += s.RecoveryCuts
	t.s.Snapshots += s.Snapshots
	t.s.SnapInstalls += s.SnapInstalls
	t.s.PeerMessages += s.PeerMessages
	t.s.Sessions += s.Sessions
	t.s.Expired += s.Expired
	t.s.Replies += s.Replies
	t.s.WatchEvents += s.WatchEvents
	t.s.ConnLosses += s.ConnLosses
	t.s.RecipeHolds += s.RecipeHolds
	t.s.Ops += s.Ops
	t.s.UnknownOps += s.UnknownOps
}

func (t zkTotals) print(row func(name, format string, args ...any)) {
	s := t.s
	row("commits", "%d", s.Commits)
	row("client ops", "%d (%d with an unknown outcome)", s.Ops, s.UnknownOps)
	row("sessions", "%d (%d expired)", s.Sessions, s.Expired)
	row("watch events", "%d", s.WatchEvents)
	row("recipe holds", "%d", s.RecipeHolds)
	row("elections", "%d", s.Elections)
	row("restarts", "%d (recovery refused %d, cut %d tails)", s.Restarts, s.Refusals, s.RecoveryCuts)
	row("snapshots", "%d saved, %d installed by SNAP", s.Snapshots, s.SnapInstalls)
	row("connection losses", "%d", s.ConnLosses)
	row("peer messages", "%d", s.PeerMessages)
}

// failingOps are the ops and watch events the failed checks quote, as timeline marks on
// their client's lane; an op without a reply lasts until the end.
func failingOps(rep *checker.Report, end time.Duration) []mark {
	var out []mark
	for _, v := range rep.Violations {
		for _, op := range v.Ops {
			to := time.Duration(op.Return)
			if op.Unknown || to < time.Duration(op.Call) {
				to = end
			}
			out = append(out, mark{lane: zk.ClientName(op.Client), from: time.Duration(op.Call), to: to, text: v.Check + ": " + op.String()})
		}
		for _, e := range v.Events {
			at := time.Duration(e.Time)
			out = append(out, mark{lane: zk.ClientName(e.Client), from: at, to: at, text: v.Check + ": " + e.String()})
		}
	}
	return out
}
