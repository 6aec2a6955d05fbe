package cluster

import (
	"fmt"
	"time"

	"github.com/zabkit/zabkit/checker"
	"github.com/zabkit/zabkit/sim"
	"github.com/zabkit/zabkit/sim/hostio"
	"github.com/zabkit/zabkit/sim/vdisk"
	"github.com/zabkit/zabkit/zab"
)

// Cluster is one simulated ensemble run.
type Cluster struct {
	opts      Options
	world     *sim.World
	servers   []*server
	zabEvents *hostio.ZabEvents // the ZAB checker, fed every server's protocol events
	buggify   *sim.Buggify      // every server's zab.Config.Buggify (nil: off)
	// elections checks Options.ElectionChecks on the servers' outputs.
	elections *checker.ElectionChecker
	load      *load
	stats     Stats
	failure   *Failure
	events    int64 // world events run so far

	committed map[zab.Zxid]bool
}

// New builds the world and boots every server; Run runs it.
func New(o Options) (*Cluster, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	c := &Cluster{
		opts:      o,
		world:     sim.NewWorld(sim.Options{Seed: o.Seed, Link: o.Link, Record: o.Record}),
		zabEvents: hostio.NewZabEvents(),
		elections: checker.NewElectionChecker(o.ElectionChecks),
		committed: map[zab.Zxid]bool{},
	}
	o.record(c.world)
	c.buggify = o.buggify(c.world)
	snapRand := c.world.Stream("snapCount")
	for i := 1; i <= o.Voters+o.Observers; i++ {
		name := ServerName(i)
		s := &server{
			c: c, id: zab.PeerID(i), name: name,
			disk:      sim.NewDisk(c.world, name, vdisk.Faults{}),
			zabRand:   c.world.Stream("zab/" + name),
			lagRand:   c.world.Stream("lag/" + name),
			snapCount: o.SnapCount/2 + snapRand.IntN(o.SnapCount),
		}
		s.disk.SetFaults(o.DiskFaults) // recorded once, in disk.faults
		c.world.Set("snapCount."+name, s.snapCount)
		c.servers = append(c.servers, s)
	}
	c.load = newLoad(c)
	for i, s := range c.servers {
		ho := sim.HostOptions{Disk: s.disk}
		if o.Drift != nil {
			ho.Drift = o.Drift[i]
		}
		sim.AddHost(c.world, s.name, s.program(), ho)
	}
	if o.Nemesis.Interval > 0 {
		sim.StartNemesis(c.world, o.Nemesis)
	}
	if o.Hooks.Start != nil {
		o.Hooks.Start(c)
	}
	return c, nil
}

// World is the simulated world the ensemble lives in.
func (c *Cluster) World() *sim.World { return c.world }

// Options is the run's configuration.
func (c *Cluster) Options() Options { return c.opts }

// Disk returns the virtual disk of the named server (for scenarios that damage it).
func (c *Cluster) Disk(name string) *vdisk.Disk { return c.server(name).disk }

// Leader returns the name of an up, established leader with the highest epoch ("" if none).
func (c *Cluster) Leader() string {
	best, epoch := "", zab.Epoch(0)
	for _, s := range c.servers {
		if p := s.peer(); p != nil && p.Established() && (best == "" || p.Epoch() > epoch) {
			best, epoch = s.name, p.Epoch()
		}
	}
	return best
}

// Role is the role of the named server's peer (0 while it is down).
func (c *Cluster) Role(name string) zab.Role {
	if p := c.server(name).peer(); p != nil {
		return p.Role()
	}
	return 0
}

// Broadcasting reports whether the named server is up and in ZAB's broadcast phase: an
// established leader, or a learner its leader has brought up to date.
func (c *Cluster) Broadcasting(name string) bool {
	p := c.server(name).peer()
	return p != nil && p.Phase() == zab.Broadcast && (p.Role() != zab.Leading || p.Established())
}

// LocalMillis is the named server's clock reading (its skew and drift applied), whether or
// not it is up.
func (c *Cluster) LocalMillis(name string) int64 { return c.server(name).host.NowMs() }

// Commits is the number of distinct txns committed (delivered somewhere) so far.
func (c *Cluster) Commits() int { return c.stats.Commits }

// ServerNames lists the servers, voters first.
func (c *Cluster) ServerNames() []string {
	names := make([]string, len(c.servers))
	for i, s := range c.servers {
		names[i] = s.name
	}
	return names
}

func (c *Cluster) server(name string) *server {
	for _, s := range c.servers {
		if s.name == name {
			return s
		}
	}
	panic(fmt.Sprintf("cluster: no server %q", name))
}

// observe feeds one protocol event to the checker; a violation fails the run at once.
func (c *Cluster) observe(e checker.ZabEvent) {
	if c.failure != nil {
		return
	}
	if report := c.zabEvents.Observe(e, c.world.Now()); report != "" {
		c.fail(FailSafety, "%s", report)
	}
}

// observeElection feeds one election event to its checker; a violation fails the run.
func (c *Cluster) observeElection(e checker.ElectionEvent) {
	if c.failure != nil {
		return
	}
	e.Time = int64(c.world.Now() / time.Millisecond)
	if v := c.elections.Observe(e); len(v) > 0 {
		c.fail(FailSafety, "%v", v[0])
	}
}

func (c *Cluster) delivered(s *server, t zab.Txn) {
	if !c.committed[t.Zxid] {
		c.committed[t.Zxid] = true
		c.stats.Commits++
	}
	c.load.delivered(s, t)
}

func (c *Cluster) fail(kind FailKind, format string, args ...any) {
	if c.failure != nil {
		return
	}
	c.failure = &Failure{Kind: kind, At: c.world.Now(), Detail: fmt.Sprintf(format, args...)}
	c.world.Note("", fmt.Sprintf("FAILURE %v: %s", kind, c.failure.Detail))
}

// Run runs a configuration to its end and reports; it never panics (a panic in the core
// is a failure of the run, with its stack).
func Run(o Options) Result {
	c, err := New(o)
	if err != nil {
		return Result{Seed: o.Seed, Failure: &Failure{Kind: FailConfig, Detail: err.Error()}}
	}
	return c.Run()
}

// runSliceMax is how much virtual time runs between checks for failure and liveness.
const runSliceMax = 20 * time.Millisecond

// Run runs the fault phase, then the liveness phase, then the end-of-run checks.
func (c *Cluster) Run() (r Result) {
	start := time.Now()
	defer func() {
		if p := recover(); p != nil {
			c.failure = &Failure{Kind: FailPanic, At: c.world.Now(),
				Detail: c.zabEvents.PanicReport(p)}
		}
		r = c.result(time.Since(start))
	}()
	o := c.opts
	c.runUntil(o.FaultUntil, func() bool { return false })
	if c.failure != nil {
		return
	}
	c.endFaults()
	c.load.startLiveness()
	bound := c.ticks(o.LivenessBoundTicks)
	c.runUntil(c.world.Now()+bound+c.load.livenessSpan()+bound, func() bool {
		c.load.checkLiveness()
		return c.load.livenessDone()
	})
	if c.failure == nil {
		c.load.checkLiveness()
		if !c.load.livenessDone() {
			c.fail(FailLiveness, "the run ended with liveness txns pending: %s", c.load.pendingText())
		}
	}
	if c.failure != nil {
		return
	}
	// Let the last commits reach everyone, then the whole-run checks.
	c.runUntil(c.world.Now()+c.ticks(o.SyncLimitTicks), func() bool { return false })
	if report := c.zabEvents.Finish(); report != "" && c.failure == nil {
		c.fail(FailSafety, "%s", report)
	}
	c.checkStates()
	return
}

// endFaults closes the fault phase whatever injected the faults (the nemesis does the same
// at its end; scenarios' own faults may not): heal the network, stop its connection breaks
// (netsim loss, see Options.Link; retransmit delays stay: they are latency), restart every
// server. Liveness is owed once faults stop, as in TigerBeetle's liveness mode.
func (c *Cluster) endFaults() {
	c.world.Net.Heal()
	if c.opts.Link.LossProbability > 0 {
		c.world.Fault("liveness phase: links stop losing messages")
		l := c.opts.Link
		l.LossProbability = 0
		for _, a := range c.servers {
			for _, b := range c.servers {
				if a != b {
					c.world.Net.SetLink(c.world.Endpoint(a.name), c.world.Endpoint(b.name), l)
				}
			}
		}
	}
	for _, s := range c.servers {
		if !c.world.IsUp(s.name) {
			c.world.Restart(s.name)
		}
	}
}

// runUntil runs the world in slices until t, a failure, or done.
func (c *Cluster) runUntil(t time.Duration, done func() bool) {
	if c.failure != nil {
		return
	}
	stop := func() bool { return done() || c.failure != nil }
	if err := hostio.RunUntil(c.world, t, runSliceMax, &c.events, c.opts.EventsMax, stop); err != nil {
		c.fail(FailLiveness, "%v", err)
	}
}

func (c *Cluster) ticks(n int64) time.Duration {
	return time.Duration(n*c.opts.TickMillis) * time.Millisecond
}

// checkStates compares the state machines: servers that applied up to the same zxid hold
// the same running hash (the state, not only the zxids, agrees).
func (c *Cluster) checkStates() {
	byZxid := map[zab.Zxid]string{}
	for _, s := range c.servers {
		l := s.current()
		if l == nil || l.sm == nil {
			continue
		}
		key := fmt.Sprintf("%016x/%d", l.sm.hash, len(l.sm.items))
		if other, ok := byZxid[l.sm.zxid]; ok && other != key {
			c.fail(FailSafety, "state machines differ at %v: %s has hash/len %s, another server %s", l.sm.zxid, s.name, key, other)
			return
		}
		byZxid[l.sm.zxid] = key
	}
}
