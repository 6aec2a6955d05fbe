package zk

import (
	"fmt"
	"time"

	"github.com/zabkit/zabkit/zab/node"
)

// Pauses freezes whole server processes for a while (a long GC pause, a VM or container
// frozen by its host, SIGSTOP): the process handles nothing, while the network and the disk
// carry on. On waking it first handles the client frames and peer messages that queued up,
// then its tick, as the daemon does (a late loop never expires sessions whose clients were on
// time). Messages its writer would send once a persist is durable wait for the wake too. A paused leader has not yet noticed that its followers elected another leader, so
// for a moment two servers believe they lead: the setting of ZOOKEEPER-1675, where sync()
// answered without a quorum round returns stale data (zab-bugs.md Z32).
type Pauses struct {
	// Interval is the mean time between two pauses during the fault phase (zero: none).
	Interval time.Duration
	// DurationMin and DurationMax bound one pause (uniform).
	DurationMin, DurationMax time.Duration
	// LeaderPercent is the share of pauses that freeze the current leader (the others
	// freeze a random running server).
	LeaderPercent int
}

func (p Pauses) validate() error {
	if p.Interval < 0 || p.DurationMin < 0 || p.DurationMax < p.DurationMin || p.LeaderPercent < 0 || p.LeaderPercent > 100 {
		return fmt.Errorf("zk: pauses %+v", p)
	}
	if p.Interval > 0 && p.DurationMax <= 0 {
		return fmt.Errorf("zk: pauses every %v of zero length", p.Interval)
	}
	return nil
}

func (p Pauses) String() string {
	if p.Interval == 0 {
		return "off"
	}
	return fmt.Sprintf("every~%v for %v..%v leader=%d%%", p.Interval, p.DurationMin, p.DurationMax, p.LeaderPercent)
}

// heldInputsMax bounds the inputs a paused life holds: far more than a pause of the longest
// configured length gathers; more means a feedback loop in the host.
const heldInputsMax = 1 << 16

// startPauses schedules the pauses of the fault phase: each ends before FaultUntil, so the
// liveness phase starts with every process running.
func (c *Cluster) startPauses() {
	p := c.opts.Pauses
	if p.Interval <= 0 {
		return
	}
	r := c.world.Stream("zk-pauses")
	var next func()
	next = func() {
		gap := time.Duration(r.Int64N(int64(2*p.Interval) + 1))
		c.world.Clock.AfterFunc(gap, func() {
			d := p.DurationMin + time.Duration(r.Int64N(int64(p.DurationMax-p.DurationMin)+1))
			if c.world.Now()+d >= c.opts.FaultUntil {
				return
			}
			leader := r.IntN(100) < p.LeaderPercent
			pick := r.IntN(len(c.servers))
			c.pause(leader, pick, d)
			next()
		})
	}
	next()
}

// pause freezes the leader (when leader is set and one is established) or the pick-th
// running server for d.
func (c *Cluster) pause(leader bool, pick int, d time.Duration) {
	var up []*server
	var target *server
	for _, s := range c.servers {
		l := s.current()
		if l == nil || l.node == nil || l.paused {
			continue
		}
		up = append(up, s)
		if leader && l.node.Peer().Established() {
			target = s
		}
	}
	if len(up) == 0 {
		return
	}
	if target == nil {
		target = up[pick%len(up)]
	}
	l := target.current()
	l.paused = true
	c.stats.Pauses++
	c.world.Fault(fmt.Sprintf("pause %s (%v) for %v", target.name, l.node.Peer().Role(), d))
	target.host.After(d, l.resume)
}

// hold keeps the inputs a paused life receives; the tick is left out, one is given on
// resume.
func (l *life) hold(ins []node.Input) {
	for _, in := range ins {
		if _, tick := in.(node.Tick); tick {
			continue
		}
		if len(l.held)+len(l.heldSends) >= heldInputsMax {
			panic(fmt.Sprintf("zk: %s held %d inputs during a pause", l.s.name, len(l.held)))
		}
		l.held = append(l.held, in)
	}
}

// resume wakes the process: the client connections' inputs first (each connection in its
// own order), then the peers' messages and the disk's completions in arrival order, then a
// tick. Inputs of different connections have no order between them, and a real server reads
// its client sockets and its peer sockets on different threads.
func (l *life) resume() {
	if l.s.current() != l || !l.paused {
		return
	}
	l.paused = false
	held, sends := l.held, l.heldSends
	l.held, l.heldSends = nil, nil
	for _, m := range sends {
		l.sendPeer(m)
	}
	ins := make([]node.Input, 0, len(held)+1)
	for _, in := range held {
		if isClientInput(in) {
			ins = append(ins, in)
		}
	}
	for _, in := range held {
		if !isClientInput(in) {
			ins = append(ins, in)
		}
	}
	ins = append(ins, node.Tick{})
	l.s.host.Note(fmt.Sprintf("resumed after a pause: %d inputs held", len(held)))
	// One input at a time, each one's outputs carried out before the next: the host reads
	// the node's role when it carries a persist out (observePersist).
	for _, in := range ins {
		l.s.host.Input([]node.Input{in})
	}
}

func isClientInput(in node.Input) bool {
	switch in.(type) {
	case node.ClientConnected, node.ClientFrame, node.ClientClosed:
		return true
	}
	return false
}
