package node

import "github.com/zabkit/zabkit/zab"

// Session ids follow ZooKeeper's shape (SessionTrackerImpl.initializeNextSessionId): the
// server id in the top byte, so ids made by different members never collide, then 40 bits
// that differ per incarnation (ZooKeeper takes them from a clock; here from Config.Rand),
// then a 16-bit counter. The low 56 bits are bumped by one per new session.
func firstSessionID(server zab.PeerID, r zab.Rand) int64 {
	return int64(uint64(server)<<56 | (r.Uint64()&(1<<40-1))<<16)
}

// nextSessionID returns a fresh id: never 0, and never math.MinInt64, the value ZooKeeper
// reserves to mark containers.
func (n *Node) nextSessionID() int64 {
	for {
		n.sessionIDNext++
		id := n.sessionIDNext
		if id != 0 && id != -1<<63 {
			return id
		}
	}
}

// passwordSecret is ZooKeeper's SessionTrackerImpl password seed constant.
const passwordSecret = 0xB3415C00

// sessionPassword derives a session's 16-byte password from its id as ZooKeeper does
// (java.util.Random seeded with id ^ 0xB3415C00, four nextInt() calls, each int written low
// byte first: zk-protocol.md §2.5), so every member can check a resuming client's password
// without storing it, and a session created by a Java server would be accepted here.
func sessionPassword(id int64) []byte {
	const mask = 1<<48 - 1
	seed := (uint64(id) ^ passwordSecret ^ 0x5DEECE66D) & mask
	out := make([]byte, 0, 16)
	for range 4 {
		seed = (seed*0x5DEECE66D + 0xB) & mask
		r := uint32(int32(seed >> 16))
		out = append(out, byte(r), byte(r>>8), byte(r>>16), byte(r>>24))
	}
	return out
}
