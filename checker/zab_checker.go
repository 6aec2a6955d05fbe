package checker

import (
	"fmt"
	"slices"
)

// ZabChecker checks the ZAB invariants incrementally: Observe checks each event as it comes,
// every invariant included, so a simulator can stop at the first bad step and a run cut
// short (a liveness failure) has been checked as far as it went.
//
// A node's delivered sequence is tracked per "life": a life starts empty, or at a restored
// committed prefix, and only grows; a crash or a restore starts a new life. Every life must
// be a prefix of one global committed sequence (PrefixConsistency).
//
// Agreement (of any two lives, one delivered everything the other did) is implied by
// PrefixConsistency: two prefixes of one sequence are ordered by inclusion. It is checked
// on its own all the same, on the delivered sets and not the global sequence, when a life
// grows or starts; so when it fires, PrefixConsistency fired at that event or before.
type ZabChecker struct {
	n          int // events observed
	violations []ZabViolation

	proposed      map[uint64]string   // zxid -> txn, every txn any leader broadcast
	epochProposed map[uint32][]uint64 // epoch -> zxids in broadcast order
	proposedIndex map[uint64]int      // zxid -> index in its epoch's broadcast order
	leaders       map[uint32]uint64   // epoch -> established leader
	// primaries holds, per epoch whose leader has broadcast, the set its life had delivered
	// at its first broadcast (PrimaryIntegrity).
	primaries map[uint32]map[uint64]bool

	global    []uint64 // the committed sequence: the longest delivered prefix
	globalTxn []string
	globalPos map[uint64]int
	committed map[uint64]bool // delivered by some node

	current map[uint64]*zabLife
	lives   []*zabLife
}

type zabLife struct {
	node   uint64
	seq    []uint64
	pos    map[uint64]int
	prefix []uint64 // prefix[k]: hash of seq[:k+1]
}

// NewZabChecker returns a checker with an empty history.
func NewZabChecker() *ZabChecker {
	return &ZabChecker{
		proposed:      map[uint64]string{},
		epochProposed: map[uint32][]uint64{},
		proposedIndex: map[uint64]int{},
		leaders:       map[uint32]uint64{},
		primaries:     map[uint32]map[uint64]bool{},
		globalPos:     map[uint64]int{},
		committed:     map[uint64]bool{},
		current:       map[uint64]*zabLife{},
	}
}

// Violations returns the violations found so far.
func (c *ZabChecker) Violations() []ZabViolation { return c.violations }

// Finish returns every violation of the run. Every check runs in Observe; Finish stays the
// end-of-run call hosts make, so a whole-run check added later needs no host change.
func (c *ZabChecker) Finish() []ZabViolation { return c.violations }

func (c *ZabChecker) fail(inv, format string, args ...any) {
	if len(c.violations) < zabViolationsMax {
		c.violations = append(c.violations, ZabViolation{Invariant: inv, Event: c.n - 1, Detail: fmt.Sprintf(format, args...)})
	}
}

// Observe checks one event.
func (c *ZabChecker) Observe(e ZabEvent) {
	c.n++
	switch e.Kind {
	case ZabProposed:
		c.observeProposed(e)
	case ZabDelivered:
		c.observeDelivered(e)
	case ZabRestored:
		c.startLife(e.Node, e.Zxid)
	case ZabEstablished:
		c.observeEstablished(e)
	case ZabTruncated:
		for _, z := range e.Zxids {
			if c.committed[z] {
				c.fail(CommittedLogDurability, "node %d truncated committed txn %s", e.Node, FormatZxid(z))
			}
		}
	case ZabCrashed:
		delete(c.current, e.Node)
	default:
		c.fail(Integrity, "unknown event kind %v", e.Kind)
	}
}

func (c *ZabChecker) observeProposed(e ZabEvent) {
	epoch := uint32(e.Zxid >> 32)
	if old, ok := c.proposed[e.Zxid]; ok {
		c.fail(Integrity, "zxid %s proposed twice (%q, then %q by node %d)", FormatZxid(e.Zxid), old, e.Txn, e.Node)
		return
	}
	// Leadership: only the established leader of an epoch broadcasts in it.
	if l, ok := c.leaders[epoch]; !ok || l != e.Node {
		c.fail(Leadership, "node %d proposed %s but the established leader of epoch %d is %s",
			e.Node, FormatZxid(e.Zxid), epoch, c.leaderName(epoch))
	}
	order := c.epochProposed[epoch]
	if n := len(order); n > 0 && order[n-1] >= e.Zxid {
		c.fail(LocalPrimaryOrder, "leader %d proposed %s after %s", e.Node, FormatZxid(e.Zxid), FormatZxid(order[n-1]))
	}
	c.proposed[e.Zxid] = string(e.Txn)
	c.proposedIndex[e.Zxid] = len(order)
	c.epochProposed[epoch] = append(order, e.Zxid)
	if len(order) == 0 {
		// PrimaryIntegrity: before broadcasting anything of its epoch, the leader has
		// delivered every older txn that anyone delivered.
		mine := map[uint64]bool{}
		if l := c.current[e.Node]; l != nil {
			for _, z := range l.seq {
				mine[z] = true
			}
		}
		c.primaries[epoch] = mine
		for _, z := range sortedKeys(c.committed) {
			if uint32(z>>32) < epoch && !mine[z] {
				c.fail(PrimaryIntegrity, "leader %d of epoch %d broadcast before delivering %s, which was delivered elsewhere",
					e.Node, epoch, FormatZxid(z))
			}
		}
	}
}

func (c *ZabChecker) leaderName(epoch uint32) string {
	if l, ok := c.leaders[epoch]; ok {
		return fmt.Sprint(l)
	}
	return "nobody"
}

func (c *ZabChecker) observeEstablished(e ZabEvent) {
	if l, ok := c.leaders[e.Epoch]; ok && l != e.Node {
		c.fail(Leadership, "epoch %d established by node %d and by node %d", e.Epoch, l, e.Node)
		return
	}
	c.leaders[e.Epoch] = e.Node
	// CommittedLogDurability (in its LeaderLogCompleteness form): a new leader's initial
	// history holds every txn of an older epoch committed so far. Not those of later
	// epochs: a leader that finishes establishing epoch e late, after epoch e+1 committed
	// txns, lacks them harmlessly (its quorum has moved on, so nothing of e commits).
	has := map[uint64]bool{}
	for _, z := range e.Zxids {
		has[z] = true
	}
	for _, z := range sortedKeys(c.committed) {
		if z > e.Base && uint32(z>>32) < e.Epoch && !has[z] {
			c.fail(CommittedLogDurability, "leader %d of epoch %d established without committed txn %s",
				e.Node, e.Epoch, FormatZxid(z))
		}
	}
}

// startLife begins a new life of node at the committed prefix ending at z.
func (c *ZabChecker) startLife(node, z uint64) {
	l := &zabLife{node: node, pos: map[uint64]int{}}
	c.current[node] = l
	c.lives = append(c.lives, l)
	if z == 0 {
		return
	}
	k, ok := c.globalPos[z]
	if !ok {
		c.fail(Integrity, "node %d restored a state at %s, which nobody delivered", node, FormatZxid(z))
		return
	}
	for _, g := range c.global[:k+1] {
		c.appendLife(l, g)
	}
	for _, o := range c.lives[:len(c.lives)-1] {
		if c.checkAgreement(l, o) {
			break
		}
	}
}

// checkAgreement reports whether lives a and b each delivered a txn the other did not,
// and if so records the Agreement violation. It scans both lives: only a restore needs it
// (a delivery checks Agreement in O(1) per life, see observeDelivered).
func (c *ZabChecker) checkAgreement(a, b *zabLife) bool {
	aMissing, bMissing := missing(a, b), missing(b, a)
	if aMissing == 0 || bMissing == 0 {
		return false
	}
	c.failAgreement(a, b, aMissing, bMissing)
	return true
}

// failAgreement records that life a lacks aMissing, which b delivered, and b lacks bMissing.
func (c *ZabChecker) failAgreement(a, b *zabLife, aMissing, bMissing uint64) {
	c.fail(Agreement, "node %d delivered %s that node %d did not, and node %d delivered %s that node %d did not",
		b.node, FormatZxid(aMissing), a.node, a.node, FormatZxid(bMissing), b.node)
}

func (c *ZabChecker) appendLife(l *zabLife, z uint64) {
	h := uint64(14695981039346656037)
	if n := len(l.prefix); n > 0 {
		h = l.prefix[n-1]
	}
	for i := 0; i < 8; i++ {
		h = (h ^ (z >> (8 * i) & 0xff)) * 1099511628211
	}
	l.pos[z] = len(l.seq)
	l.seq = append(l.seq, z)
	l.prefix = append(l.prefix, h)
}

func (c *ZabChecker) observeDelivered(e ZabEvent) {
	l := c.current[e.Node]
	if l == nil {
		l = &zabLife{node: e.Node, pos: map[uint64]int{}}
		c.current[e.Node] = l
		c.lives = append(c.lives, l)
	}
	z, txn := e.Zxid, string(e.Txn)
	epoch := uint32(z >> 32)
	if p, ok := c.proposed[z]; !ok || p != txn {
		c.fail(Integrity, "node %d delivered %s=%q, which no leader proposed", e.Node, FormatZxid(z), e.Txn)
	}
	if _, dup := l.pos[z]; dup {
		c.fail(TotalOrder, "node %d delivered %s twice", e.Node, FormatZxid(z))
		return
	}
	if n := len(l.seq); n > 0 && uint32(l.seq[n-1]>>32) > epoch {
		c.fail(GlobalPrimaryOrder, "node %d delivered %s after %s of a later epoch", e.Node, FormatZxid(z), FormatZxid(l.seq[n-1]))
	}
	if i, ok := c.proposedIndex[z]; ok && i > 0 {
		prev := c.epochProposed[epoch][i-1]
		if _, had := l.pos[prev]; !had {
			c.fail(LocalPrimaryOrder, "node %d delivered %s without %s, broadcast before it in epoch %d",
				e.Node, FormatZxid(z), FormatZxid(prev), epoch)
		}
	}
	for _, e2 := range sortedEpochs(c.primaries) {
		if mine := c.primaries[e2]; e2 > epoch && !mine[z] {
			c.fail(PrimaryIntegrity, "node %d delivered %s of epoch %d, which the leader of epoch %d had not delivered before broadcasting",
				e.Node, FormatZxid(z), epoch, e2)
		}
	}
	k := len(l.seq)
	switch {
	case k < len(c.global) && (c.global[k] != z || c.globalTxn[k] != txn):
		c.fail(PrefixConsistency, "node %d delivered %s=%q at position %d where %s=%q was delivered before",
			e.Node, FormatZxid(z), e.Txn, k, FormatZxid(c.global[k]), c.globalTxn[k])
	case k == len(c.global):
		c.globalPos[z] = k
		c.global = append(c.global, z)
		c.globalTxn = append(c.globalTxn, txn)
	}
	c.appendLife(l, z)
	c.committed[z] = true
	totalOrder, agreement := false, false
	for _, o := range c.lives {
		if o == l {
			continue
		}
		j, ok := o.pos[z]
		// TotalOrder: any life that delivered z delivered exactly the same txns before it.
		if !totalOrder && ok && (j != k || o.prefix[j] != l.prefix[k]) {
			totalOrder = true
			c.fail(TotalOrder, "node %d and node %d delivered %s after different sequences", e.Node, o.node, FormatZxid(z))
		}
		// Agreement: o delivered more txns than l had before z, yet not z. So o holds a txn
		// l lacks (l's k txns and z cannot cover o's k+1 or more without z), and l now
		// holds z, which o lacks. Conversely, when the lives were ordered by inclusion
		// before z, this is the only way z can break the order.
		if !agreement && !ok && len(o.seq) > k {
			agreement = true
			c.failAgreement(l, o, missing(l, o), z)
		}
	}
}

// missing returns a zxid that from delivered and l did not (0: none).
func missing(l, from *zabLife) uint64 {
	for _, z := range from.seq {
		if _, ok := l.pos[z]; !ok {
			return z
		}
	}
	return 0
}

func sortedKeys(m map[uint64]bool) []uint64 {
	ks := make([]uint64, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func sortedEpochs(m map[uint32]map[uint64]bool) []uint32 {
	ks := make([]uint32, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
