package failover

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/zabkit/zabkit/netsim"
	"github.com/zabkit/zabkit/sim"
	"github.com/zabkit/zabkit/sim/cluster"
	"github.com/zabkit/zabkit/sim/vdisk"
)

// Options is the cluster configuration the schedule runs on: its base for the seed, the
// nemesis off, the bugs switched on, the fault phase ending at FaultsUntil, and a start
// hook that puts every step on the world's virtual clock. It refuses steps naming servers
// the ensemble lacks.
func (s Schedule) Options() (cluster.Options, error) {
	if err := s.validate(); err != nil {
		return cluster.Options{}, err
	}
	var o cluster.Options
	switch s.Base {
	case BaseSwarm:
		o = cluster.Swarm(s.Seed, s.FaultsUntil)
	default:
		o = cluster.Quiet(s.Seed)
		o.Voters, o.Observers = s.Voters, s.Observers
		o.FaultUntil = s.FaultsUntil
	}
	o.Nemesis = sim.NemesisOptions{} // zero Interval: no nemesis, the schedule is the only fault source
	bugs, err := zabBugs(s.Bugs)
	if err != nil {
		return cluster.Options{}, err
	}
	o.ZabBugs = bugs
	servers := make([]string, o.Voters+o.Observers)
	for i := range servers {
		servers[i] = cluster.ServerName(i + 1)
	}
	for i, st := range s.Steps {
		if err := st.check(servers); err != nil {
			return cluster.Options{}, fmt.Errorf("schedule: step %d (%v): %w", i+1, st, err)
		}
	}
	steps := slices.Clone(s.Steps)
	until := s.FaultsUntil
	o.Hooks.Start = func(c *cluster.Cluster) { start(c, steps, until) }
	return o, nil
}

// check refuses a step that names a server outside servers, or a malformed step built in
// code rather than parsed.
func (st Step) check(servers []string) error {
	known := func(names ...string) error {
		for _, n := range names {
			if !slices.Contains(servers, n) {
				return fmt.Errorf("no server %q (servers %s)", n, strings.Join(servers, ","))
			}
		}
		return nil
	}
	switch st.Action {
	case Heal:
		return nil
	case Cut:
		if st.Server == st.To {
			return fmt.Errorf("a cut needs two servers")
		}
		return known(st.Server, st.To)
	case Partition:
		if len(st.Group) == 0 || len(st.Other) == 0 {
			return fmt.Errorf("a partition needs two non-empty groups")
		}
		for _, n := range st.Group {
			if slices.Contains(st.Other, n) {
				return fmt.Errorf("%s is on both sides", n)
			}
		}
		return known(append(slices.Clone(st.Group), st.Other...)...)
	case Crash, Restart, Isolate, PowerCut, Corrupt:
		return known(st.Server)
	}
	return fmt.Errorf("unknown action %v", st.Action)
}

// Run runs the schedule with the full checks: the cluster's ZAB checker on every event, the
// state machines compared, and the liveness phase after the fault phase heals everything.
// Bugs go into Options.ZabBugs; the election checks are the base configuration's (NoVoteCircle).
func (s Schedule) Run() (cluster.Result, error) { return s.run(false) }

// Replay is Run with the whole trace recorded in the result.
func (s Schedule) Replay() (cluster.Result, error) { return s.run(true) }

func (s Schedule) run(record bool) (cluster.Result, error) {
	o, err := s.Options()
	if err != nil {
		return cluster.Result{}, err
	}
	o.Record = record
	return cluster.Run(o), nil
}

// RunWithBugs runs o with the named zab.Bugs switches on in every server (a schedule's
// bugs line: Options.ZabBugs); with no names it is cluster.Run(o). An unknown name is an
// error.
func RunWithBugs(o cluster.Options, names []string) (cluster.Result, error) {
	bugs, err := zabBugs(names)
	if err != nil {
		return cluster.Result{}, err
	}
	o.ZabBugs = bugs
	return cluster.Run(o), nil
}

// start puts the steps on the clock, in order (the clock runs timers of one instant in the
// order they were set). The fault phase then ends as sim's nemesis ends it, with the end
// set from the last step: heal everything and restart every crashed server. A swarm run's
// faults replayed as a schedule therefore write the same trace as its nemesis did.
func start(c *cluster.Cluster, steps []Step, until time.Duration) {
	w := c.World()
	corruptRand := w.Stream("failover/corrupt")
	end := func() {
		w.Clock.At(max(until, w.Now()), func() {
			w.Fault("fault phase over: heal all, restart all")
			w.Net.Heal()
			for _, name := range c.ServerNames() {
				if !w.IsUp(name) {
					w.Restart(name)
				}
			}
		})
	}
	if len(steps) == 0 {
		end()
		return
	}
	for i, st := range steps {
		last := i == len(steps)-1
		w.Clock.At(st.At, func() {
			apply(c, st, corruptRand.IntN)
			if last {
				end()
			}
		})
	}
}

// apply carries out one step now. A step that cannot act (crash a server that is down,
// restart one that is up) writes a note instead of a fault.
func apply(c *cluster.Cluster, st Step, intN func(int) int) {
	w := c.World()
	text := st.Text()
	switch st.Action {
	case Heal:
		w.Fault(text)
		w.Net.Heal()
	case Crash:
		if !w.IsUp(st.Server) {
			w.Note("", "schedule: "+text+": already down")
			return
		}
		w.Fault(text)
		w.Crash(st.Server)
	case Restart:
		if w.IsUp(st.Server) {
			w.Note("", "schedule: "+text+": already up")
			return
		}
		w.Fault(text)
		w.Restart(st.Server)
	case Isolate:
		w.Fault(text)
		w.Net.Isolate(w.Endpoint(st.Server))
	case Cut:
		w.Fault(text)
		w.Net.Cut(w.Endpoint(st.Server), w.Endpoint(st.To))
	case Partition:
		w.Fault(text)
		w.Net.Partition(endpoints(w, st.Group), endpoints(w, st.Other))
	case PowerCut:
		if !w.IsUp(st.Server) {
			w.Note("", "schedule: "+text+": already down")
			return
		}
		w.Fault(text)
		d := c.Disk(st.Server)
		faults := c.Options().DiskFaults
		torn := faults
		torn.TearProbability = 1
		d.SetFaults(torn)
		w.Crash(st.Server)
		d.SetFaults(faults)
	case Corrupt:
		w.Fault(text)
		if w.IsUp(st.Server) {
			w.Crash(st.Server)
		}
		corruptLog(w, c.Disk(st.Server), intN)
	}
}

// corruptLog flips a bit in a synced block of one of the disk's log files (zab/storage
// names them "log.*"), and notes which.
func corruptLog(w *sim.World, d *vdisk.Disk, intN func(int) int) {
	files, err := d.List()
	if err != nil {
		w.Note("", "schedule: corrupt: listing the disk: "+err.Error())
		return
	}
	var logs []string
	for _, f := range files {
		if strings.HasPrefix(f, "log.") {
			logs = append(logs, f)
		}
	}
	if len(logs) == 0 {
		w.Note("", "schedule: corrupt: no log file yet")
		return
	}
	if got, ok := d.CorruptFileBlock(logs[intN(len(logs))]); ok {
		w.Note("", fmt.Sprintf("schedule: corrupt: flipped bit %d at byte %d of %s", got.Bit, got.OffsetBytes, got.File))
	} else {
		w.Note("", "schedule: corrupt: the log has no synced content yet")
	}
}

func endpoints(w *sim.World, names []string) []netsim.Endpoint {
	eps := make([]netsim.Endpoint, len(names))
	for i, n := range names {
		eps[i] = w.Endpoint(n)
	}
	return eps
}
