package zk

import (
	"fmt"
	"time"

	"github.com/zabkit/zabkit/checker"
	"github.com/zabkit/zabkit/netsim"
	"github.com/zabkit/zabkit/sim"
	"github.com/zabkit/zabkit/sim/hostio"
	"github.com/zabkit/zabkit/sim/vdisk"
	"github.com/zabkit/zabkit/zab"
	"github.com/zabkit/zabkit/zab/node"
)

// Cluster is one simulated run: an ensemble of zab/node servers and the clients using it.
type Cluster struct {
	opts      Options
	world     *sim.World
	servers   []*server
	clients   []*client
	zabEvents *hostio.ZabEvents // the ZAB checker, fed every server's protocol events
	buggify   *sim.Buggify      // every server's Buggify hook (nil: off)
	rec       *recorder
	stats     Stats
	failure   *Failure
	events    int64 // world events run so far
	ending    bool  // the quiet end: the clients make no new requests

	// simHash is the trace hash when the simulation ended, before the checks (whose report,
	// with its temporary file names, goes into the trace on failure).
	simHash uint64

	staleData map[string][][]byte // bugStaleReads: the data values getData replies showed, per path
}

// New builds the world, boots every server and starts every client; Run runs it.
func New(o Options) (*Cluster, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	c := &Cluster{
		opts:      o,
		world:     sim.NewWorld(sim.Options{Seed: o.Seed, Link: o.Link, Record: o.Record}),
		zabEvents: hostio.NewZabEvents(),
		rec:       newRecorder(),

		staleData: map[string][][]byte{},
	}
	o.record(c.world)
	c.buggify = o.buggify(c.world)
	for i := 1; i <= o.Voters+o.Observers; i++ {
		name := ServerName(i)
		s := &server{c: c, id: zab.PeerID(i), name: name, disk: sim.NewDisk(c.world, name, vdisk.Faults{}),
			rand: c.world.Stream("node/" + name)}
		s.disk.SetFaults(o.DiskFaults) // recorded once, in disk.faults
		c.servers = append(c.servers, s)
		ho := sim.HostOptions{Disk: s.disk}
		if o.Drift != nil {
			ho.Drift = o.Drift[i-1]
		}
		sim.AddHost(c.world, name, s.program(), ho)
	}
	for i := range o.Clients {
		cl := newClient(c, i)
		c.clients = append(c.clients, cl)
		sim.AddHost(c.world, cl.name, cl.program(), sim.HostOptions{})
		cl.start()
	}
	if o.Nemesis.Interval > 0 {
		sim.StartNemesis(c.world, o.Nemesis)
	}
	c.startPauses()
	return c, nil
}

// World is the simulated world of the run.
func (c *Cluster) World() *sim.World { return c.world }

// Options is the run's configuration.
func (c *Cluster) Options() Options { return c.opts }

// Node returns the running node of the named server (nil while it is down).
func (c *Cluster) Node(name string) *node.Node { return c.server(name).node() }

// observe feeds one protocol event to the ZAB checker; a violation fails the run at once.
func (c *Cluster) observe(e checker.ZabEvent) {
	if c.failure != nil {
		return
	}
	if report := c.zabEvents.Observe(e, c.world.Now()); report != "" {
		c.fail(FailSafety, "%s", report)
	}
}

// committed records a server's applied txn: replicas must agree on its bytes and on the
// tree digest after it.
func (c *Cluster) committed(s *server, o node.Committed) {
	if _, seen := c.rec.committed[o.Zxid]; !seen {
		c.stats.Commits++
		if c.opts.Workload.Hot > 0 {
			if x, err := node.DecodeTxn(o.Data); err == nil && !x.Sync && x.Tree.Path == HotPath {
				c.stats.HotChanges++
			}
		}
	}
	if err := c.rec.commit(s.name, o); err != nil {
		c.fail(FailSafety, "%v", err)
	}
}

func (c *Cluster) fail(kind FailKind, format string, args ...any) {
	if c.failure != nil {
		return
	}
	c.failure = &Failure{Kind: kind, At: c.world.Now(), Detail: fmt.Sprintf(format, args...)}
	c.world.Note("", fmt.Sprintf("FAILURE %v: %s", kind, c.failure.Detail))
}

// Run runs a configuration to its end and reports; on failure it writes the trace.
func Run(o Options) Result {
	c, err := New(o)
	if err != nil {
		return Result{Seed: o.Seed, Failure: &Failure{Kind: FailConfig, Detail: err.Error()}}
	}
	r := c.Run()
	if r.Failed() {
		r.TracePath, r.TraceError = writeTrace(c, o)
	}
	return r
}

// runSliceMax is how much virtual time runs between checks for failure and liveness.
const runSliceMax = 20 * time.Millisecond

// Run runs the fault phase, the liveness phase, a quiet end, then every check.
func (c *Cluster) Run() (r Result) {
	start := time.Now()
	defer func() {
		if p := recover(); p != nil {
			c.failure = &Failure{Kind: FailPanic, At: c.world.Now(),
				Detail: c.zabEvents.PanicReport(p)}
		}
		r = c.result(r, time.Since(start))
	}()
	o := c.opts
	c.runUntil(o.FaultUntil, func() bool { return false })
	if c.failure != nil {
		return r
	}
	healed := c.endFaults()
	bound := c.ticks(o.LivenessBoundTicks)
	c.runUntil(healed+2*bound, func() bool { return false })
	if c.failure != nil {
		return r
	}
	c.checkLiveness(healed, bound)
	if c.failure != nil {
		return r
	}
	// Quiet end: no new tasks; let the pending ones finish and the last commits reach
	// every server, so the committed order is complete.
	c.ending = true
	for _, cl := range c.clients {
		cl.work.stopped = true
	}
	c.runUntil(c.world.Now()+bound, c.idle)
	connected := c.sampleConnected()
	c.runUntil(c.world.Now()+c.ticks(2*o.SyncLimitTicks), func() bool { return false })
	if c.failure != nil {
		return r
	}
	if report := c.zabEvents.Finish(); report != "" {
		c.fail(FailSafety, "%s", report)
		return r
	}
	c.simHash = c.world.Trace.Hash()
	h, err := c.rec.history()
	if err != nil {
		c.fail(FailSafety, "%v", err)
		return r
	}
	h.Connected = stillConnected(connected)
	h.Replicas = c.replicas()
	checkStart := time.Now()
	rep := checker.Check(h, checker.Config{Tree: treeConfig, VisualizationDir: o.OutDir})
	r.CheckTime = time.Since(checkStart)
	r.Report = &rep
	r.History = h
	if !rep.OK() {
		c.fail(FailCheck, "%s", rep.String())
	}
	return r
}

// endFaults closes the fault phase whatever injected the faults: heal the network, stop its
// connection breaks (netsim loss), restart every server. It returns the time of the heal.
func (c *Cluster) endFaults() time.Duration {
	w := c.world
	w.Fault("liveness phase: heal all, links stop losing, restart all")
	w.Net.Heal()
	if c.opts.Link.LossProbability > 0 {
		l := c.opts.Link
		l.LossProbability = 0
		n := w.Net.Endpoints()
		for a := range n {
			for b := range n {
				if a != b {
					w.Net.SetLink(netsim.Endpoint(a), netsim.Endpoint(b), l)
				}
			}
		}
	}
	for _, s := range c.servers {
		if !w.IsUp(s.name) {
			w.Restart(s.name)
		}
	}
	return w.Now()
}

// checkLiveness: once faults stop, the ensemble serves again within the bound: no request
// sent more than a bound before the end is still unanswered, and every client completed a
// request within the last bound.
func (c *Cluster) checkLiveness(healed, bound time.Duration) {
	end := c.world.Now()
	for i := range c.rec.h.Ops {
		o := &c.rec.h.Ops[i]
		if o.Unknown && time.Duration(o.Call) <= end-bound {
			c.fail(FailLiveness, "%d ticks after the heal at %v, a request sent at %v is still unanswered: %v",
				c.opts.LivenessBoundTicks, healed, time.Duration(o.Call), o)
			return
		}
	}
	for _, cl := range c.clients {
		if cl.lastReplyAt < end-bound {
			c.fail(FailLiveness, "client %s got no reply between %v and %v (healed at %v; last reply at %v; %d handshakes)",
				cl.name, end-bound, end, healed, cl.lastReplyAt, cl.connected)
			return
		}
	}
}

// idle reports whether no client has a request outstanding.
func (c *Cluster) idle() bool {
	for _, cl := range c.clients {
		if cl.conn != nil && len(cl.conn.pending) > 0 || len(cl.queued) > 0 {
			return false
		}
	}
	return true
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
