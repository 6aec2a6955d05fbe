package cluster

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/zabkit/zabkit/zab"
)

// load is the bounded client: it proposes unique txns to whichever server leads, retries a
// txn whose leader lost its reign before committing it (with a new unique payload), and in
// the liveness phase holds every txn to a commit deadline on every server.
type load struct {
	c   *Cluster
	rng *rand.Rand

	ops       []*op
	byPayload map[string]*op
	created   int

	live        bool
	liveStart   time.Duration
	liveOps     []*op
	leaderSeen  bool
	attemptsMax int
}

// op is one logical client write and its attempts.
type op struct {
	n        int
	live     bool
	created  time.Duration
	deadline time.Duration // liveness ops only
	attempts int
	zxid     zab.Zxid // the zxid of the last accepted attempt
	// committed is the zxid at which some attempt was first delivered anywhere.
	committed zab.Zxid
	done      bool
}

// opsPerTickMax bounds the attempts one load tick makes.
const opsPerTickMax = 4

// faultAttemptsMax bounds the retries of a fault-phase txn.
const faultAttemptsMax = 6

func newLoad(c *Cluster) *load {
	l := &load{c: c, rng: c.world.Stream("load"), byPayload: map[string]*op{}, attemptsMax: faultAttemptsMax}
	l.schedule()
	return l
}

func (l *load) schedule() {
	o := l.c.opts
	d := o.LoadIntervalMin
	if span := o.LoadIntervalMax - o.LoadIntervalMin; span > 0 {
		d += time.Duration(l.rng.Int64N(int64(span) + 1))
	}
	l.c.world.Clock.AfterFunc(d, l.tick)
}

func (l *load) tick() {
	c, o := l.c, l.c.opts
	if c.failure != nil {
		return
	}
	now := c.world.Now()
	switch {
	case l.live && len(l.liveOps) < o.LivenessTxns:
		l.newOp(true, now)
	case !l.live && l.created < o.LoadTxnsMax:
		l.newOp(false, now)
	}
	sent := 0
	for _, p := range l.ops {
		if sent == opsPerTickMax {
			break
		}
		if p.live == l.live && l.attempt(p) {
			sent++
		}
	}
	l.schedule()
}

func (l *load) newOp(live bool, now time.Duration) {
	p := &op{n: len(l.ops) + 1, live: live, created: now}
	if live {
		p.deadline = now + l.c.ticks(l.c.opts.LivenessBoundTicks)
		l.liveOps = append(l.liveOps, p)
	} else {
		l.created++
	}
	l.ops = append(l.ops, p)
}

// attempt proposes p to the leader if p needs it: never tried, rejected, or accepted by a
// leader whose reign ended before p committed. It reports whether it proposed.
func (l *load) attempt(p *op) bool {
	if p.committed != 0 || (!p.live && p.attempts >= l.attemptsMax) {
		return false
	}
	s := l.pickLeader()
	if s == nil {
		return false
	}
	if p.zxid != 0 && s.peer().Epoch() <= p.zxid.Epoch() {
		return false // its leader still reigns: wait for the commit
	}
	p.attempts++
	payload := fmt.Sprintf("op%d.%d", p.n, p.attempts)
	l.byPayload[payload] = p
	l.c.stats.Attempts++
	s.host.Input(input{zab: zab.Propose{Data: []byte(payload)}})
	return true
}

// pickLeader chooses among the up, established leaders: at random while faults may leave a
// stale leader believing it reigns (its proposals must then vanish), the newest in the
// liveness phase.
func (l *load) pickLeader() *server {
	var leaders []*server
	for _, s := range l.c.servers {
		if p := s.peer(); p != nil && p.Established() {
			leaders = append(leaders, s)
		}
	}
	if len(leaders) == 0 {
		return nil
	}
	if !l.live {
		return leaders[l.rng.IntN(len(leaders))]
	}
	best := leaders[0]
	for _, s := range leaders[1:] {
		if s.peer().Epoch() > best.peer().Epoch() {
			best = s
		}
	}
	return best
}

func (l *load) proposed(s *server, z zab.Zxid, payload []byte) {
	l.c.stats.Proposed++
	if p := l.byPayload[string(payload)]; p != nil {
		p.zxid = z
	}
}

// rejected needs no bookkeeping: the op keeps its last accepted zxid (if any), and attempt
// tries again once a leader of a later epoch reigns.
func (l *load) rejected(s *server, payload []byte, err error) {
	l.c.stats.Rejected++
}

func (l *load) delivered(s *server, t zab.Txn) {
	if p := l.byPayload[string(t.Data)]; p != nil && p.committed == 0 {
		p.committed = t.Zxid
	}
}

// startLiveness begins the liveness phase: faults are over (the nemesis healed the network
// and restarted every server at FaultUntil).
func (l *load) startLiveness() {
	l.live = true
	l.liveStart = l.c.world.Now()
	l.c.world.Note("", fmt.Sprintf("liveness phase: a leader within %d ticks, then %d txns each committed on every server within %d ticks",
		l.c.opts.LivenessBoundTicks, l.c.opts.LivenessTxns, l.c.opts.LivenessBoundTicks))
}

// livenessSpan is how long the liveness phase takes to create its txns.
func (l *load) livenessSpan() time.Duration {
	return time.Duration(l.c.opts.LivenessTxns) * l.c.opts.LoadIntervalMax
}

func (l *load) livenessDone() bool {
	if len(l.liveOps) < l.c.opts.LivenessTxns {
		return false
	}
	for _, p := range l.liveOps {
		if !p.done {
			return false
		}
	}
	return true
}

// checkLiveness marks the liveness txns that every server in service has applied and fails
// the run when a deadline passed.
func (l *load) checkLiveness() {
	c := l.c
	now := c.world.Now()
	bound := c.ticks(c.opts.LivenessBoundTicks)
	if !l.leaderSeen {
		if c.Leader() != "" {
			l.leaderSeen = true
			c.stats.LeaderAfterHealTicks = int64((now - l.liveStart) / c.ticks(1))
		} else if now > l.liveStart+bound {
			c.fail(FailLiveness, "no leader established within %d ticks of the heal\n%s", c.opts.LivenessBoundTicks, l.serversText())
			return
		}
	}
	for _, p := range l.liveOps {
		if p.done {
			continue
		}
		if p.committed != 0 && l.appliedEverywhere(p.committed) {
			p.done = true
			c.stats.WorstCommitTicks = max(c.stats.WorstCommitTicks, int64((now-p.created)/c.ticks(1)))
			continue
		}
		if now > p.deadline {
			c.fail(FailLiveness, "liveness txn op%d (created %v, %d attempts, last zxid %v, committed at %v) is not applied on every server within %d ticks\n%s",
				p.n, p.created, p.attempts, p.zxid, p.committed, c.opts.LivenessBoundTicks, l.serversText())
			return
		}
	}
}

func (l *load) appliedEverywhere(z zab.Zxid) bool {
	for _, s := range l.c.servers {
		if s.refused != nil {
			continue
		}
		lf := s.current()
		if lf == nil || lf.sm == nil || lf.sm.zxid < z {
			return false
		}
	}
	return true
}

func (l *load) pendingText() string {
	var parts []string
	for _, p := range l.liveOps {
		if !p.done {
			parts = append(parts, fmt.Sprintf("op%d(attempts=%d zxid=%v committed=%v)", p.n, p.attempts, p.zxid, p.committed))
		}
	}
	return strings.Join(parts, " ") + "\n" + l.serversText()
}

// serversText describes every server for a liveness report.
func (l *load) serversText() string {
	var b strings.Builder
	for _, s := range l.c.servers {
		lf := s.current()
		switch {
		case s.refused != nil:
			fmt.Fprintf(&b, "  %s out of service: %v\n", s.name, s.refused)
		case lf == nil || lf.peer == nil:
			fmt.Fprintf(&b, "  %s down\n", s.name)
		default:
			p := lf.peer
			fmt.Fprintf(&b, "  %s %v %v epoch=%d established=%v last=%v committed=%v applied=%v\n",
				s.name, p.Role(), p.Phase(), p.Epoch(), p.Established(), p.LastLogged(), p.Committed(), lf.sm.zxid)
		}
	}
	return b.String()
}
