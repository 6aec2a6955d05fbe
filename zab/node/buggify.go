package node

import "github.com/zabkit/zabkit/zab"

// The member's BUGGIFY sites (zab.Buggify, FoundationDB's BUGGIFY): legal but rare
// behaviours a simulator switches on per seed to reach rare paths. Config.Buggify is nil in
// production; the daemon must never set it (Config.Buggified).
const (
	// BuggifySnapshotNow: the member snapshots right after applying txns, whatever its
	// rolled snapCount says. Legal: it is the periodic snapshot (the tree exactly at
	// lastApplied, saved only once the log is durable up to it), only earlier; in
	// particular it can land while a SNAP install from a leader is on its way to the disk,
	// which the store must order (a snapshot below the newest one is superseded).
	BuggifySnapshotNow = "node.snapshot-now"
	// BuggifyTinyWindow: the leader's window of proposals in flight is 2 instead of
	// ProposalsInFlightMax: a forwarded request beyond it waits at the leader for earlier
	// proposals to apply, expiries and reaps wait for the next tick. Legal: that is what the
	// leader does under load with any window.
	BuggifyTinyWindow = "node.tiny-window"
)

// BuggifySites lists every site a member can ask: its own and zab's, except the two zab
// sites a member never passes on (zab.BuggifyBusy: see memberBuggify; zab.BuggifySnapshotNow:
// the member takes the snapshots, zab.Config.SnapshotsByHost).
func BuggifySites() []string {
	sites := []string{BuggifySnapshotNow, BuggifyTinyWindow}
	for _, s := range zab.BuggifySites() {
		if s != zab.BuggifyBusy && s != zab.BuggifySnapshotNow {
			sites = append(sites, s)
		}
	}
	return sites
}

// Buggified reports whether the configuration carries a BUGGIFY hook: a production host
// refuses to start with one, as with AnyBugs.
func (c *Config) Buggified() bool { return c.Buggify != nil }

// buggify asks the hook at site; without one (production) it never fires.
func (n *Node) buggify(site string) bool {
	return n.cfg.Buggify != nil && n.cfg.Buggify.Fire(site)
}

// memberBuggify is the hook zab gets: the member's, minus zab.BuggifyBusy. The member sizes
// zab's in-flight window above its own so that zab never refuses a proposal the member
// prepared against its tree (runPeer asserts it); BuggifyTinyWindow narrows the member's
// window instead, where a refusal is answered.
type memberBuggify struct{ b zab.Buggify }

func (m memberBuggify) Fire(site string) bool { return site != zab.BuggifyBusy && m.b.Fire(site) }

func zabBuggify(b zab.Buggify) zab.Buggify {
	if b == nil {
		return nil
	}
	return memberBuggify{b}
}

// windowFull reports whether the leader may not propose now: ProposalsInFlightMax
// proposals are in flight, or 2 under BuggifyTinyWindow.
func (n *Node) windowFull() bool {
	inFlight := n.inFlight()
	return inFlight >= n.cfg.ProposalsInFlightMax || inFlight >= 2 && n.buggify(BuggifyTinyWindow)
}
