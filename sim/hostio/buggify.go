package hostio

import (
	"math/rand/v2"
	"time"

	"github.com/zabkit/zabkit/zab"
)

// The host's BUGGIFY sites (FoundationDB's BUGGIFY, see zab.Buggify): rare but legal
// behaviours of the machine around a member, asked of the run's hook (sim.Buggify) like the
// core's sites. The daemon has no hook, so they never fire in production.
const (
	// BuggifySlowFsync: a group Sync takes half a tick to two ticks more than the disk's
	// latency (an fsync behind a busy device or a full write cache). Legal: ZAB assumes
	// nothing about how long a write takes to become durable; the member only hears of it
	// later, and the leader commits with the quorum that did ack. Bounded in ticks so that
	// a sync of several writes still fits initLimit when the site does not fire every time.
	BuggifySlowFsync = "hostio.slow-fsync"
	// BuggifyLaggingMember: for one life of a member, every peer message reaches it a
	// fixed lag after it arrived (a tenth of a tick to half a tick: a slow NIC queue, a
	// process starved of CPU), so a follower keeps falling behind its leader and hears
	// proposals, commits and pings late. Legal: a message may take any time; the lag is the
	// same for every message of the life, so each connection stays FIFO. Bounded to half a
	// tick because it lasts the whole life: the handshake's round trips to the member (its
	// FOLLOWERINFO to UPTODATE) must still fit initLimit, or the member never rejoins.
	BuggifyLaggingMember = "hostio.lagging-member"
)

// BuggifySites lists the host's sites, for hosts that report which are active in a run.
func BuggifySites() []string { return []string{BuggifySlowFsync, BuggifyLaggingMember} }

// SlowFsync is the extra time of a slow group Sync when BuggifySlowFsync fires: half a tick
// to two ticks.
func SlowFsync(r *rand.Rand, tick time.Duration) time.Duration {
	return tick/2 + time.Duration(r.Int64N(int64(tick*3/2)+1))
}

// MemberLag is asked once at a member's boot: the lag every peer message of this life
// takes before the member hears it when BuggifyLaggingMember fires, else zero. tick is the
// ensemble's tick; b may be nil (never fires).
func MemberLag(b zab.Buggify, r *rand.Rand, tick time.Duration) time.Duration {
	if b == nil || !b.Fire(BuggifyLaggingMember) {
		return 0
	}
	return tick/10 + time.Duration(r.Int64N(int64(tick*4/10)+1))
}
