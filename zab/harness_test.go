package zab

import (
	"container/heap"
	"fmt"
	"hash"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/zabkit/zabkit/checker"
)

// The in-test cluster harness: a deterministic world of peers, a network that delays, loses,
// duplicates, reorders and partitions, and disks on which a write is durable only some time
// after it was issued and a crash loses whatever was not. One seed decides everything, so a
// failing seed replays exactly.

type harnessOptions struct {
	voters, observers int
	tickMillis        int64
	initLimitTicks    int64
	syncLimitTicks    int64
	diffTxnsMax       int
	diffBytesMax      int
	inFlightMax       int
	snapshotEveryTxns int
	// hostSnapshotEveryTxns > 0 makes the host take the snapshots, as zab/node's does
	// (Config.SnapshotsByHost): after that many deliveries it snapshots the state machine
	// and writes it once the log is durable up to it.
	hostSnapshotEveryTxns int
	// Network: per message latency in [latencyMin, latencyMax] ms; loss and duplication in
	// per mille; reorder lets messages overtake each other inside one link (TCP would not).
	latencyMin, latencyMax Time
	lossPerMille           int
	dupPerMille            int
	reorder                bool
	// Disk: a write becomes durable diskMin..diskMax ms after it was issued, in order.
	diskMin, diskMax Time
	// lieAboutDurability makes the host send a persist's After messages and report it
	// Persisted at once, while the write stays volatile until the disk latency passed: the
	// ack-before-fsync family of bugs (ZOOKEEPER-4646, -3911, -4882), done by the host.
	lieAboutDurability bool
	// Clients: every proposeEveryMillis the established leaders get a new txn while fewer
	// than windowTxns of theirs are uncommitted.
	proposeEveryMillis Time
	windowTxns         int
	// bugs switches known bugs on in every node (bugzoo_test.go).
	bugs Bugs
	// buggify, when set, is every node's Config.Buggify (buggify_test.go).
	buggify *testBuggify
	// lenientRegister lets the test state machine apply txns in any order, so that only
	// the ZAB checker judges the delivery order (mutants_test.go).
	lenientRegister bool
}

func defaultOptions(voters, observers int) harnessOptions {
	return harnessOptions{
		voters: voters, observers: observers,
		tickMillis: 20, initLimitTicks: 10, syncLimitTicks: 5,
		latencyMin: 1, latencyMax: 6,
		diskMin: 1, diskMax: 4,
		proposeEveryMillis: 3, windowTxns: 8,
	}
}

type splitRand struct{ r *rand.Rand }

func (s splitRand) Uint64() uint64 { return s.r.Uint64() }

// simDisk is one node's disk content, the same shape zab/storage recovers.
type simDisk struct {
	acceptedEpoch, currentEpoch Epoch
	snap                        Snapshot
	log                         []Txn
}

func (d *simDisk) clone() simDisk {
	c := *d
	c.log = slices.Clone(d.log)
	return c
}

// apply executes one persist as zab/storage does and returns the logged zxids it removed. A
// snapshot install below the newest snapshot is superseded and writes nothing
// (storage.Store.PersistSnapshot): with SnapshotsByHost the peer is not told of the host's
// snapshots, so a leader whose state machine lags can SNAP below one.
func (d *simDisk) apply(w Persist) (removed []Zxid) {
	if w.Snapshot != nil && w.Snapshot.Zxid >= d.snap.Zxid {
		i := 0
		for i < len(d.log) && d.log[i].Zxid <= w.Snapshot.Zxid {
			i++
		}
		d.snap = *w.Snapshot
		d.log = d.log[i:]
	}
	if w.Truncate {
		i := 0
		for i < len(d.log) && d.log[i].Zxid <= w.TruncateAfter {
			i++
		}
		for _, t := range d.log[i:] {
			removed = append(removed, t.Zxid)
		}
		d.log = d.log[:i:i]
	}
	d.log = append(d.log, w.Entries...)
	if w.SetAcceptedEpoch {
		d.acceptedEpoch = w.AcceptedEpoch
	}
	if w.SetCurrentEpoch {
		d.currentEpoch = w.CurrentEpoch
	}
	return removed
}

type pendingWrite struct {
	w  Persist
	at Time
}

type simNode struct {
	id        PeerID
	cfg       Config
	peer      *Peer
	sm        *register
	up        bool
	restartAt Time
	lastTick  Time
	durable   simDisk
	written   simDisk // what the node has issued, durable or not
	pending   []pendingWrite
	proposing map[Zxid]bool // own uncommitted proposals, for the client window
	phase     Phase         // as of the last StateChanged of this life
	voteRound uint64        // the round of the last LOOKING vote this life sent
	vote      Vote          // and that vote
	// The host's own snapshots (hostSnapshotEveryTxns): deliveries since the last one, the
	// one taken and waiting for every persist issued before it to be durable, and the last
	// persist ID issued.
	hostDelivered int
	hostDue       *Snapshot
	hostDueAfter  uint64
	lastIssued    uint64
}

type envelope struct {
	at  Time
	seq uint64
	msg Message
}

type envelopeHeap []envelope

func (h envelopeHeap) Len() int { return len(h) }
func (h envelopeHeap) Less(i, j int) bool {
	return h[i].at < h[j].at || (h[i].at == h[j].at && h[i].seq < h[j].seq)
}
func (h envelopeHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *envelopeHeap) Push(x any)   { *h = append(*h, x.(envelope)) }
func (h *envelopeHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

type link [2]PeerID

// failer is what the harness needs from a test: *testing.T, *testing.B and *rapid.T.
type failer interface {
	Helper()
	Fatalf(format string, args ...any)
}

// crashHook is asked at every step named in steps.go; returning true crashes the node there.
type crashHook func(c *cluster, n *simNode, step string) bool

type cluster struct {
	t    failer
	seed uint64
	opt  harnessOptions
	rng  *rand.Rand
	now  Time

	ids      []PeerID
	nodes    map[PeerID]*simNode
	queue    envelopeHeap
	seq      uint64
	cut      map[link]bool
	linkLast map[link]Time

	check  *checker.ZabChecker
	trace  hash.Hash64
	recent []string // the last trace lines, printed on failure
	hook   crashHook

	// collect makes failures end the run and land in failure instead of failing the test
	// (for tests that expect a deliberately broken host to be caught).
	collect bool
	failure string
	// broken holds the violations the checker reported at the first event it rejected.
	broken []checker.ZabViolation
	// noTrace skips the trace (benchmarks): no hash, no failure context. noCheck skips the
	// invariant checker.
	noTrace, noCheck bool
	// keepSent records every message sent, for transcript tests.
	keepSent bool
	sent     []Message

	nextPropose   Time
	proposals     int
	stats         clusterStats
	firstFallback string
}

type clusterStats struct {
	messages, persists, delivered, proposed, rejected, crashes int
	// fallbacks counts peers returning to election from BROADCAST; firstFallback (in
	// cluster) says who and why.
	fallbacks int
	// silences counts learners that left BROADCAST because their leader was silent.
	silences int
	// snapshots counts the snapshot writes the peers issued (their own and SNAP installs),
	// restores the SNAP installs, busy the proposals refused with ErrBusy.
	snapshots, restores, busy int
	syncModes                 map[MessageType]int
}

func newCluster(t failer, seed uint64, opt harnessOptions) *cluster {
	return newClusterWithDisks(t, seed, opt, nil)
}

// newClusterWithDisks starts the nodes from the given durable states (empty when absent).
func newClusterWithDisks(t failer, seed uint64, opt harnessOptions, disks map[PeerID]simDisk) *cluster {
	c := &cluster{
		t: t, seed: seed, opt: opt,
		rng:      rand.New(rand.NewPCG(seed, 0x5eed)),
		nodes:    map[PeerID]*simNode{},
		cut:      map[link]bool{},
		linkLast: map[link]Time{},
		check:    checker.NewZabChecker(),
		trace:    fnv.New64a(),
		stats:    clusterStats{syncModes: map[MessageType]int{}},
	}
	var voters, observers []PeerID
	for i := 1; i <= opt.voters+opt.observers; i++ {
		id := PeerID(i)
		c.ids = append(c.ids, id)
		if i <= opt.voters {
			voters = append(voters, id)
		} else {
			observers = append(observers, id)
		}
	}
	c.recordPrehistory(disks)
	for _, id := range c.ids {
		n := &simNode{id: id, cfg: Config{
			ID: id, Voters: voters, Observers: observers,
			TickMillis: opt.tickMillis, InitLimitTicks: opt.initLimitTicks, SyncLimitTicks: opt.syncLimitTicks,
			Rand:        splitRand{rand.New(rand.NewPCG(seed, uint64(id)))},
			DiffTxnsMax: opt.diffTxnsMax, DiffBytesMax: opt.diffBytesMax, InFlightTxnsMax: opt.inFlightMax, SnapshotEveryTxns: opt.snapshotEveryTxns,
			SnapshotsByHost: opt.hostSnapshotEveryTxns > 0,
			Bugs:            opt.bugs,
		}}
		if opt.buggify != nil {
			n.cfg.Buggify = opt.buggify
		}
		d := disks[id]
		n.durable = d.clone()
		c.nodes[id] = n
		c.start(n)
	}
	return c
}

func (c *cluster) start(n *simNode) {
	n.sm = &register{lenient: c.opt.lenientRegister}
	if len(n.durable.snap.Data) > 0 {
		if err := n.sm.Restore(n.durable.snap.Data); err != nil {
			c.fatalf("node %d: restore durable snapshot: %v", n.id, err)
		}
	}
	n.cfg.StateMachine = n.sm
	p, err := NewPeer(n.cfg, Recovered{
		AcceptedEpoch: n.durable.acceptedEpoch, CurrentEpoch: n.durable.currentEpoch,
		SnapshotZxid: n.durable.snap.Zxid, Log: slices.Clone(n.durable.log),
	})
	if err != nil {
		c.fatalf("node %d: NewPeer: %v", n.id, err)
	}
	n.peer, n.up, n.lastTick = p, true, c.now-1
	n.written = n.durable.clone()
	n.proposing = map[Zxid]bool{}
	n.hostDelivered, n.hostDue, n.hostDueAfter, n.lastIssued = 0, nil, 0, 0
	c.observe(checker.ZabEvent{Kind: checker.ZabRestored, Node: uint64(n.id), Zxid: uint64(n.durable.snap.Zxid)})
	c.record(n, "start")
}

func (c *cluster) fatalf(format string, args ...any) {
	c.t.Helper()
	if c.collect {
		if c.failure == "" {
			c.failure = fmt.Sprintf(format, args...)
		}
		return
	}
	c.t.Fatalf("seed %d at t=%d: %s\nreproduce: the same test with seed %d\nlast steps:\n%s",
		c.seed, c.now, fmt.Sprintf(format, args...), c.seed, strings.Join(c.recent, "\n"))
}

func (c *cluster) recordf(n *simNode, format string, args ...any) {
	if !c.noTrace {
		c.record(n, fmt.Sprintf(format, args...))
	}
}

func (c *cluster) record(n *simNode, line string) {
	if c.noTrace {
		return
	}
	s := fmt.Sprintf("t=%d n%d %s", c.now, n.id, line)
	fmt.Fprintln(c.trace, s)
	c.recent = append(c.recent, s)
	if len(c.recent) > recentLines {
		c.recent = c.recent[1:]
	}
}

func (c *cluster) observe(e checker.ZabEvent) {
	if c.noCheck {
		return
	}
	e.Time = int64(c.now)
	before := len(c.check.Violations())
	c.check.Observe(e)
	if v := c.check.Violations(); len(v) > before {
		if c.broken == nil {
			c.broken = slices.Clone(v[before:])
		}
		c.fatalf("ZAB invariant broken: %v\nevent: %v", v[before], e)
	}
}

// handle feeds one input to node n and carries out its outputs.
func (c *cluster) handle(n *simNode, in Input) {
	var propose []byte
	if p, ok := in.(Propose); ok {
		propose = p.Data
	}
	var out []Output
	func() {
		defer func() {
			if r := recover(); r != nil {
				c.fatalf("node %d panicked on %#v: %v", n.id, in, r)
			}
		}()
		out = n.peer.Handle(c.now, in)
	}()
	for _, o := range out {
		if !n.up {
			return // crashed by a hook in the middle of the outputs
		}
		c.output(n, o, propose)
	}
	if n.up {
		c.hostSnapshot(n)
	}
}

// hostSnapshot is the host's side of Config.SnapshotsByHost, shaped like zab/node's
// snapshotter: a snapshot of the state machine at the commit point after enough deliveries,
// saved once every persist issued before it is durable (so the disk's log reaches its zxid
// and no earlier SNAP install can land on top of it).
func (c *cluster) hostSnapshot(n *simNode) {
	every := c.opt.hostSnapshotEveryTxns
	if every <= 0 {
		return
	}
	if n.hostDue == nil && n.hostDelivered >= every {
		n.hostDue = &Snapshot{Zxid: n.peer.Committed(), Data: n.sm.Snapshot()}
		n.hostDueAfter, n.hostDelivered = n.lastIssued, 0
	}
	if n.hostDue == nil || (len(n.pending) > 0 && n.pending[0].w.ID <= n.hostDueAfter) {
		return
	}
	snap := *n.hostDue
	n.hostDue = nil
	if snap.Zxid > n.durable.snap.Zxid {
		n.durable.apply(Persist{Snapshot: &snap})
		n.written.apply(Persist{Snapshot: &snap})
	}
	c.recordf(n, "host snapshot %v", snap.Zxid)
}

func (c *cluster) output(n *simNode, o Output, propose []byte) {
	switch o := o.(type) {
	case Send:
		c.send(n, o.Message)
	case Persist:
		c.stats.persists++
		if o.Snapshot != nil {
			c.stats.snapshots++
		}
		n.lastIssued = o.ID
		c.checkEpochWrite(n, o)
		c.recordf(n, "persist %d snap=%v trunc=%v/%v entries=%d ae=%v/%d ce=%v/%d after=%d",
			o.ID, o.Snapshot != nil, o.Truncate, o.TruncateAfter, len(o.Entries),
			o.SetAcceptedEpoch, o.AcceptedEpoch, o.SetCurrentEpoch, o.CurrentEpoch, len(o.After))
		if removed := n.written.apply(o); len(removed) > 0 {
			zs := make([]uint64, len(removed))
			for i, z := range removed {
				zs[i] = uint64(z)
			}
			c.observe(checker.ZabEvent{Kind: checker.ZabTruncated, Node: uint64(n.id), Zxids: zs})
		}
		at := c.now + c.opt.diskMin + Time(c.rng.Int64N(int64(c.opt.diskMax-c.opt.diskMin)+1))
		if k := len(n.pending); k > 0 && n.pending[k-1].at > at {
			at = n.pending[k-1].at
		}
		n.pending = append(n.pending, pendingWrite{w: o, at: at})
		if c.crashAt(n, "persist-issued") {
			return
		}
		if c.opt.lieAboutDurability {
			for _, m := range o.After {
				c.send(n, m)
			}
			c.handle(n, Persisted{ID: o.ID})
			n.pending[len(n.pending)-1].w.After = nil
		}
	case Deliver:
		c.stats.delivered++
		n.hostDelivered++
		delete(n.proposing, o.Txn.Zxid)
		c.recordf(n, "deliver %v %q", o.Txn.Zxid, o.Txn.Data)
		c.observe(checker.ZabEvent{Kind: checker.ZabDelivered, Node: uint64(n.id), Zxid: uint64(o.Txn.Zxid), Txn: o.Txn.Data})
	case Restored:
		c.stats.restores++
		n.hostDue, n.hostDelivered = nil, 0 // a snapshot taken before a SNAP install is older than it
		c.recordf(n, "restored %v", o.Zxid)
		c.observe(checker.ZabEvent{Kind: checker.ZabRestored, Node: uint64(n.id), Zxid: uint64(o.Zxid)})
	case StateChanged:
		c.recordf(n, "state %v %v epoch=%d leader=%d (%s)", o.Role, o.Phase, o.Epoch, o.Leader, o.Reason)
		if o.Role == Looking && n.phase == Broadcast {
			c.stats.fallbacks++
			if strings.HasPrefix(o.Reason, "leader silent") {
				c.stats.silences++
			}
			if c.firstFallback == "" {
				c.firstFallback = fmt.Sprintf("node %d at t=%d: %s", n.id, c.now, o.Reason)
			}
		}
		n.phase = o.Phase
		if o.Role != Looking {
			n.voteRound, n.vote = 0, Vote{} // an election ended; the next may reuse a round number
		}
		if o.Role != Leading || o.Phase == Broadcast {
			clear(n.proposing) // the client window counts only this leadership's proposals
		}
		if o.Role == Leading && o.Phase == Broadcast {
			base, zxids := n.peer.History()
			zs := make([]uint64, len(zxids))
			for i, z := range zxids {
				zs[i] = uint64(z)
			}
			c.observe(checker.ZabEvent{Kind: checker.ZabEstablished, Node: uint64(n.id), Epoch: uint32(o.Epoch), Base: uint64(base), Zxids: zs})
		}
	case Proposed:
		c.stats.proposed++
		n.proposing[o.Zxid] = true
		c.recordf(n, "proposed %v %q", o.Zxid, propose)
		c.observe(checker.ZabEvent{Kind: checker.ZabProposed, Node: uint64(n.id), Zxid: uint64(o.Zxid), Txn: propose})
	case Rejected:
		c.stats.rejected++
		if o.Err == ErrBusy {
			c.stats.busy++
		}
		c.recordf(n, "rejected: %v", o.Err)
	default:
		c.fatalf("unknown output %T", o)
	}
}

func (c *cluster) send(n *simNode, m Message) {
	c.stats.messages++
	if c.keepSent {
		c.sent = append(c.sent, m)
	}
	if !c.noTrace {
		c.record(n, "send "+m.String())
	}
	if m.From != n.id {
		c.fatalf("node %d sent a message from %d: %v", n.id, m.From, m)
	}
	if m.Type == MsgNotification && m.State == Looking {
		c.checkVoteMonotonic(n, m)
	}
	l := link{m.From, m.To}
	if c.cut[l] || c.roll(c.opt.lossPerMille) {
		return
	}
	copies := 1
	if c.roll(c.opt.dupPerMille) {
		copies = 2
	}
	for range copies {
		at := c.now + c.opt.latencyMin + Time(c.rng.Int64N(int64(c.opt.latencyMax-c.opt.latencyMin)+1))
		if !c.opt.reorder && c.linkLast[l] > at {
			at = c.linkLast[l]
		}
		c.linkLast[l] = max(c.linkLast[l], at)
		c.seq++
		heap.Push(&c.queue, envelope{at: at, seq: c.seq, msg: m})
	}
}

// checkEpochWrite refuses what zab/storage refuses: an epoch write that lowers
// acceptedEpoch or currentEpoch, or leaves currentEpoch above acceptedEpoch.
func (c *cluster) checkEpochWrite(n *simNode, w Persist) {
	accepted, current := n.written.acceptedEpoch, n.written.currentEpoch
	if w.SetAcceptedEpoch {
		if w.AcceptedEpoch < accepted {
			c.fatalf("node %d writes acceptedEpoch %d after %d: the store refuses a decreasing epoch", n.id, w.AcceptedEpoch, accepted)
		}
		accepted = w.AcceptedEpoch
	}
	if w.SetCurrentEpoch && (w.CurrentEpoch < current || w.CurrentEpoch > accepted) {
		c.fatalf("node %d writes currentEpoch %d after %d with acceptedEpoch %d: the store refuses it", n.id, w.CurrentEpoch, current, accepted)
	}
}

// checkVoteMonotonic is SandTable's NoVoteCircle (shared/zab-bugs.md §2): within one round
// of one election (LOOKING until it decides), a peer's vote only moves up in the vote order.
func (c *cluster) checkVoteMonotonic(n *simNode, m Message) {
	v := Vote{Leader: m.Leader, Zxid: m.Zxid, Epoch: m.Epoch}
	if m.Round == n.voteRound && v != n.vote && !v.Beats(n.vote) {
		c.fatalf("ZAB invariant broken: NoVoteCircle violated: node %d moved its round-%d vote down from %+v to %+v", n.id, m.Round, n.vote, v)
	}
	n.voteRound, n.vote = m.Round, v
}

func (c *cluster) roll(perMille int) bool { return perMille > 0 && c.rng.IntN(1000) < perMille }

// crashAt asks the hook whether to crash n at step, and does so.
func (c *cluster) crashAt(n *simNode, step string) bool {
	if c.hook == nil || !n.up || !c.hook(c, n, step) {
		return false
	}
	c.crash(n, "hook at "+step)
	return true
}

// crash loses everything n had not made durable. It restarts restartAfter ms later.
func (c *cluster) crash(n *simNode, why string) {
	c.stats.crashes++
	c.record(n, "CRASH "+why)
	n.up, n.peer, n.pending, n.phase, n.voteRound, n.vote = false, nil, nil, 0, 0, Vote{}
	n.restartAt = c.now + 1 + Time(c.rng.Int64N(int64(4*c.opt.tickMillis)))
	c.observe(checker.ZabEvent{Kind: checker.ZabCrashed, Node: uint64(n.id)})
}

// step runs the earliest pending event; it returns false when nothing is due before until.
func (c *cluster) step(until Time) bool {
	type next struct {
		at   Time
		kind int // 0 restart, 1 durable, 2 message, 3 tick, 4 client
		n    *simNode
	}
	if c.failure != "" {
		return false
	}
	best := next{at: until + 1}
	consider := func(x next) {
		if x.at < best.at || (x.at == best.at && x.kind < best.kind) {
			best = x
		}
	}
	for _, id := range c.ids {
		n := c.nodes[id]
		if !n.up {
			consider(next{at: n.restartAt, kind: 0, n: n})
			continue
		}
		if len(n.pending) > 0 {
			consider(next{at: n.pending[0].at, kind: 1, n: n})
		}
		consider(next{at: max(n.peer.NextDeadline(), n.lastTick+1), kind: 3, n: n})
	}
	if len(c.queue) > 0 {
		consider(next{at: c.queue[0].at, kind: 2})
	}
	if c.opt.proposeEveryMillis > 0 {
		consider(next{at: c.nextPropose, kind: 4})
	}
	if best.at > until {
		return false
	}
	c.now = max(c.now, best.at)
	switch best.kind {
	case 0:
		c.start(best.n)
	case 1:
		c.makeDurable(best.n)
	case 2:
		e := heap.Pop(&c.queue).(envelope)
		c.deliver(e.msg)
	case 3:
		best.n.lastTick = c.now
		c.handle(best.n, Tick{})
	case 4:
		c.nextPropose = c.now + c.opt.proposeEveryMillis
		c.clientPropose()
	}
	return true
}

func (c *cluster) makeDurable(n *simNode) {
	w := n.pending[0].w
	if c.crashAt(n, "before-durable") || (w.Snapshot != nil && c.crashAt(n, "before-durable-snapshot")) {
		return
	}
	n.pending = n.pending[1:]
	n.durable.apply(w)
	c.recordf(n, "durable %d", w.ID)
	if c.crashAt(n, "after-durable") || (w.Snapshot != nil && c.crashAt(n, "after-durable-snapshot")) ||
		c.opt.lieAboutDurability {
		return
	}
	for _, m := range w.After {
		c.send(n, m)
		if c.crashAt(n, "after-send-"+m.Type.String()) {
			return
		}
	}
	c.handle(n, Persisted{ID: w.ID})
}

func (c *cluster) deliver(m Message) {
	n := c.nodes[m.To]
	if n == nil || !n.up {
		return
	}
	switch m.Type {
	case MsgDiff, MsgTrunc, MsgSnap:
		c.stats.syncModes[m.Type]++
	}
	if !c.noTrace {
		c.record(n, "recv "+m.String())
	}
	if c.crashAt(n, "before-recv-"+m.Type.String()) {
		return
	}
	c.handle(n, Receive{Message: m})
	c.crashAt(n, "after-recv-"+m.Type.String())
}

func (c *cluster) clientPropose() {
	for _, id := range c.ids {
		n := c.nodes[id]
		if !n.up || !n.peer.Established() || len(n.proposing) >= c.opt.windowTxns {
			continue
		}
		c.proposals++
		c.handle(n, Propose{Data: strconv.AppendInt([]byte{'v'}, int64(c.proposals), 10)})
	}
}

// run advances the world until time until.
func (c *cluster) run(until Time) {
	for c.step(until) {
	}
	c.now = max(c.now, until)
}

// heal stops every fault: partitions, loss, duplication and reordering end and crashed
// nodes restart now.
func (c *cluster) heal() {
	clear(c.cut)
	c.opt.lossPerMille, c.opt.dupPerMille, c.opt.reorder = 0, 0, false
	for _, id := range c.ids {
		if n := c.nodes[id]; !n.up {
			n.restartAt = c.now
		}
	}
}

// isolate cuts every link to and from id.
func (c *cluster) isolate(id PeerID) {
	for _, o := range c.ids {
		if o != id {
			c.cut[link{id, o}], c.cut[link{o, id}] = true, true
		}
	}
}

// leader returns the established leader with the highest epoch, or nil.
func (c *cluster) leader() *simNode {
	var best *simNode
	for _, id := range c.ids {
		n := c.nodes[id]
		if n.up && n.peer.Established() && (best == nil || n.peer.Epoch() > best.peer.Epoch()) {
			best = n
		}
	}
	return best
}

// awaitProgress runs until every node has applied a txn that no node had applied at the
// start (so a leader was established and committed something new everywhere), or fails once
// boundTicks ticks have passed. It returns the ticks it took.
func (c *cluster) awaitProgress(boundTicks int64) int64 {
	start := c.now
	deadline := start + Time(boundTicks*c.opt.tickMillis)
	var mark Zxid
	for _, id := range c.ids {
		if n := c.nodes[id]; n.up {
			mark = max(mark, n.sm.last())
		}
	}
	for c.now <= deadline {
		if c.allAppliedBeyond(mark) {
			return int64(c.now-start) / c.opt.tickMillis
		}
		if !c.step(deadline) {
			break
		}
	}
	var states []string
	for _, id := range c.ids {
		n := c.nodes[id]
		if n.up {
			states = append(states, n.peer.describe())
		} else {
			states = append(states, fmt.Sprintf("node %d down", id))
		}
	}
	c.fatalf("liveness: not every node applied a txn beyond %v within %d ticks after healing\n%s",
		mark, boundTicks, strings.Join(states, "\n"))
	return 0
}

func (c *cluster) allAppliedBeyond(z Zxid) bool {
	for _, id := range c.ids {
		n := c.nodes[id]
		if !n.up || n.sm.last() <= z {
			return false
		}
	}
	return true
}

func (c *cluster) finish() {
	c.t.Helper()
	if v := c.check.Finish(); len(v) > 0 {
		c.fatalf("ZAB invariant broken at the end of the run: %v", v[0])
	}
}

func newSeedRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0xfa017)) }

// recentLines is how many trace lines a failure prints; ZABKIT_TRACE=1 prints many more.
var recentLines = func() int {
	if os.Getenv("ZABKIT_TRACE") != "" {
		return 5000
	}
	return 60
}()

// recordPrehistory tells the checker about the txns already on the given disks, as if a
// phantom leader (node 0) of each of their epochs had proposed them, and had delivered,
// before proposing in epoch e, whatever the disks show to precede epoch e: snapshot contents
// and the log prefix in front of epoch e's txns.
func (c *cluster) recordPrehistory(disks map[PeerID]simDisk) {
	all := map[Zxid][]byte{}
	committed := map[Zxid]bool{}
	var logs [][]Txn
	for _, id := range slices.Sorted(func(yield func(PeerID) bool) {
		for id := range disks {
			if !yield(id) {
				return
			}
		}
	}) {
		d := disks[id]
		var reg register
		if len(d.snap.Data) > 0 {
			if err := reg.Restore(d.snap.Data); err != nil {
				c.fatalf("disk of node %d: bad snapshot: %v", id, err)
			}
		}
		var full []Txn
		for i, z := range reg.zxids {
			all[z], committed[z] = reg.values[i], true
			full = append(full, Txn{Zxid: z, Data: reg.values[i]})
		}
		for _, t := range d.log {
			all[t.Zxid] = t.Data
		}
		logs = append(logs, append(full, d.log...))
	}
	zxids := slices.Sorted(func(yield func(Zxid) bool) {
		for z := range all {
			if !yield(z) {
				return
			}
		}
	})
	delivered := Zxid(0)
	var history []uint64
	deliver := func(z Zxid) {
		if z > delivered {
			delivered = z
			history = append(history, uint64(z))
			c.observe(checker.ZabEvent{Kind: checker.ZabDelivered, Node: 0, Zxid: uint64(z), Txn: all[z]})
		}
	}
	for i, z := range zxids {
		if i == 0 || zxids[i-1].Epoch() != z.Epoch() {
			for _, p := range zxids[:i] {
				if committed[p] {
					deliver(p)
				}
			}
			for _, l := range logs {
				if j := slices.IndexFunc(l, func(t Txn) bool { return t.Zxid.Epoch() == z.Epoch() }); j > 0 {
					for _, t := range l[:j] {
						deliver(t.Zxid)
					}
				}
			}
			c.observe(checker.ZabEvent{Kind: checker.ZabEstablished, Node: 0, Epoch: uint32(z.Epoch()), Zxids: history})
		}
		c.observe(checker.ZabEvent{Kind: checker.ZabProposed, Node: 0, Zxid: uint64(z), Txn: all[z]})
	}
	for _, z := range zxids {
		if committed[z] {
			deliver(z)
		}
	}
}
