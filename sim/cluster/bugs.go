package cluster

// The bug zoo's entry to the simulated ensemble (scenarios/bugzoo): runs whose servers have
// zab.Config.Bugs switched on, plus two checks the zoo needs that the ZAB checker does not
// hold. Additive on purpose: this file only wraps what New and server.boot do.

import (
	"fmt"

	"github.com/zabkit/zabkit/checker"
	"github.com/zabkit/zabkit/sim"
	"github.com/zabkit/zabkit/sim/vdisk"
	"github.com/zabkit/zabkit/zab"
	"github.com/zabkit/zabkit/zab/storage"
)

// ZooChecks are the bug zoo's checks beyond checker.ZabChecker.
type ZooChecks struct {
	// NoVoteCircle: within one round of one election (LOOKING until it decides), a voter's
	// vote only moves up in the vote order (SandTable's NoVoteCircle, shared/zab-bugs.md §2).
	NoVoteCircle bool
	// Stable: no server falls from BROADCAST back to election. Only sound on runs without
	// faults (no nemesis, no loss, no disk faults): there, such a fall means a peer received
	// a message the protocol cannot produce (ShouldNotBeTriggered, shared/zab-bugs.md §1).
	Stable bool
}

// RunWithZabBugs is Run with bugs switched on in every server's zab.Config and the zoo's
// extra checks. A failure of those checks is a FailSafety whose Detail names the check.
func RunWithZabBugs(o Options, bugs zab.Bugs, checks ZooChecks) Result {
	c, err := newWithZabBugs(o, bugs, checks)
	if err != nil {
		return Result{Seed: o.Seed, Failure: &Failure{Kind: FailConfig, Detail: err.Error()}}
	}
	return c.Run()
}

// newWithZabBugs is New with each server's program wrapped: every boot rebuilds the peer
// with the bugs (from what storage recovered, before the peer's first input), and every
// output passes the zoo's checks before the server executes it.
// TestZabBugsOffMatchesNew keeps it in step with New.
func newWithZabBugs(o Options, bugs zab.Bugs, checks ZooChecks) (*Cluster, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	c := &Cluster{
		opts:      o,
		world:     sim.NewWorld(sim.Options{Seed: o.Seed, Link: o.Link, Record: o.Record}),
		check:     checker.NewZabChecker(),
		committed: map[zab.Zxid]bool{},
	}
	o.record(c.world)
	if bugs.Any() {
		c.world.Set("zab.bugs", fmt.Sprint(bugs.Names()))
	}
	snapRand := c.world.Stream("snapCount")
	for i := 1; i <= o.Voters+o.Observers; i++ {
		name := ServerName(i)
		s := &server{
			c: c, id: zab.PeerID(i), name: name,
			disk:      sim.NewDisk(c.world, name, vdisk.Faults{}),
			zabRand:   c.world.Stream("zab/" + name),
			snapCount: o.SnapCount/2 + snapRand.IntN(o.SnapCount),
		}
		s.disk.SetFaults(o.DiskFaults)
		c.world.Set("snapCount."+name, s.snapCount)
		c.servers = append(c.servers, s)
	}
	c.load = newLoad(c)
	for i, s := range c.servers {
		ho := sim.HostOptions{Disk: s.disk}
		if o.Drift != nil {
			ho.Drift = o.Drift[i]
		}
		sim.AddHost(c.world, s.name, s.zooProgram(bugs, checks), ho)
	}
	if o.Nemesis.Interval > 0 {
		sim.StartNemesis(c.world, o.Nemesis)
	}
	if o.Hooks.Start != nil {
		o.Hooks.Start(c)
	}
	return c, nil
}

// zooLife is what the zoo's checks remember of one life of a server.
type zooLife struct {
	phase     zab.Phase
	voteRound uint64
	vote      zab.Vote
}

func (s *server) zooProgram(bugs zab.Bugs, checks ZooChecks) sim.Program[input, zab.Output] {
	p := s.program()
	boot, execute := p.Boot, p.Execute
	var zl zooLife
	p.Boot = func(h *sim.Host[input, zab.Output]) sim.Machine[input, zab.Output] {
		m := boot(h)
		zl = zooLife{}
		if l, ok := m.(*life); ok && l.peer != nil {
			s.rebuildPeer(l, bugs)
		}
		return m
	}
	p.Execute = func(h *sim.Host[input, zab.Output], out zab.Output) {
		if l := s.current(); l != nil && l.peer != nil && s.c.failure == nil {
			s.zooCheck(&zl, out, checks)
		}
		execute(h, out)
	}
	return p
}

// rebuildPeer replaces the freshly booted peer, which has taken no input yet, by one with
// the bugs, started from the same durable state (what the store recovered).
func (s *server) rebuildPeer(l *life, bugs zab.Bugs) {
	st := l.store
	entries, err := st.EntriesAfter(st.SnapshotZxid())
	if err != nil {
		s.c.fail(FailStorage, "%s: reading the recovered log to rebuild the peer: %v", s.name, err)
		return
	}
	rec := zab.Recovered{
		AcceptedEpoch: zab.Epoch(st.AcceptedEpoch()),
		CurrentEpoch:  zab.Epoch(st.CurrentEpoch()),
		SnapshotZxid:  zab.Zxid(st.SnapshotZxid()),
		Log:           zabTxns(entries),
	}
	cfg := s.config(l.sm)
	cfg.Bugs = bugs
	peer, err := zab.NewPeer(cfg, rec)
	if err != nil {
		s.c.fail(FailStorage, "%s: the peer with bugs %v refuses what storage recovered: %v", s.name, bugs.Names(), err)
		return
	}
	l.peer = peer
}

func zabTxns(es []storage.Entry) []zab.Txn {
	ts := make([]zab.Txn, len(es))
	for i, e := range es {
		ts[i] = zab.Txn{Zxid: zab.Zxid(e.Zxid), Data: e.Data}
	}
	return ts
}

func (s *server) zooCheck(zl *zooLife, out zab.Output, checks ZooChecks) {
	switch o := out.(type) {
	case zab.Send:
		m := o.Message
		if !checks.NoVoteCircle || m.Type != zab.MsgNotification || m.State != zab.Looking || int(s.id) > s.c.opts.Voters {
			return
		}
		v := zab.Vote{Leader: m.Leader, Zxid: m.Zxid, Epoch: m.Epoch}
		if m.Round == zl.voteRound && v != zl.vote && !v.Beats(zl.vote) {
			s.c.fail(FailSafety, "NoVoteCircle violated: %s moved its round-%d vote down from %+v to %+v", s.name, m.Round, zl.vote, v)
		}
		zl.voteRound, zl.vote = m.Round, v
	case zab.StateChanged:
		if checks.Stable && o.Role == zab.Looking && zl.phase == zab.Broadcast {
			s.c.fail(FailSafety, "Stability violated: %s fell from BROADCAST to election in a fault-free run: %s", s.name, o.Reason)
		}
		zl.phase = o.Phase
		if o.Role != zab.Looking {
			zl.voteRound, zl.vote = 0, zab.Vote{} // the election ended; the next may reuse a round number
		}
	}
}
