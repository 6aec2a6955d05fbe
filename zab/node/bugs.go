package node

import "github.com/zabkit/zabkit/zab"

// Bugs re-introduces known client-level ZooKeeper bugs, and mutations of our own, into the
// member, so that the bug zoo can show the simulated clients and the checker find each one
// (issue 6). Every switch is off by default and breaks exactly one rule, with a one-line
// branch at the place the rule lives (search for the field name). Catalog entries (Z28, D1,
// ...) refer to shared/zab-bugs.md. Zab carries zab's own switches through to zab.Config.
// A production host must refuse to start when Any() is true.
type Bugs struct {
	// WatchFiredTwice: a triggered watch sends its event twice, although watches are
	// one-shot (mutation of our own; the checker's "each registration fires at most once").
	WatchFiredTwice bool
	// WatchEventAfterReply: the watch events of a txn go out after the replies of the same
	// step, so a session reads the change, or gets its own write's reply, before the event
	// announcing it. This breaks the guarantee of ZooKeeper's programmer's guide that a
	// client sees a watch event before the new data (mutation of our own).
	WatchEventAfterReply bool
	// ServeBeforeSynced: a learner starts serving clients as soon as it follows a leader
	// whose epoch it accepted (SYNCHRONIZATION), not once the leader declared the epoch
	// established (UPTODATE) (D1: the dev-list hazard and the first ZOOKEEPER-3911 patch).
	ServeBeforeSynced bool
	// SyncWithoutQuorum: the leader answers its clients' sync from its own applied state,
	// without a quorum round, so a leader cut off from its quorum, not yet timed out, answers
	// sync+read with stale data (ZOOKEEPER-1675, Z32).
	SyncWithoutQuorum bool
	// EphemeralAfterClose: the leader proposes closeSession (a client's or an expiry)
	// without preparing it, so the session is not marked closing and a create (an ephemeral
	// included) that the session sent behind its close is still accepted and ordered after
	// it (ZOOKEEPER-1208 and, for expiry, -1496; Z28). zab/tree refuses to apply an
	// ephemeral of a closed session and panics, where ZooKeeper kept the orphan.
	EphemeralAfterClose bool

	// Zab is passed to zab.Config.Bugs.
	Zab zab.Bugs
}

// Any reports whether any switch is on, zab's included. The daemon refuses to start if so.
func (b Bugs) Any() bool { return len(b.Names()) > 0 }

// Names lists the switches that are on, in declaration order, then zab's as "Zab.<name>".
func (b Bugs) Names() []string {
	names := zab.SwitchesOn(b.switches())
	for _, name := range b.Zab.Names() {
		names = append(names, "Zab."+name)
	}
	return names
}

// switches lists every bool field (a test keeps this list complete).
func (b Bugs) switches() []zab.BugSwitch {
	return []zab.BugSwitch{
		{Name: "WatchFiredTwice", On: b.WatchFiredTwice},
		{Name: "WatchEventAfterReply", On: b.WatchEventAfterReply},
		{Name: "ServeBeforeSynced", On: b.ServeBeforeSynced},
		{Name: "SyncWithoutQuorum", On: b.SyncWithoutQuorum},
		{Name: "EphemeralAfterClose", On: b.EphemeralAfterClose},
	}
}

// AnyBugs reports whether the configuration switches on any known bug, the member's or
// zab's: a production host refuses to start with it (Bugs.Names says which).
func (c *Config) AnyBugs() bool { return c.Bugs.Any() }
