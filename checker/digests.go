package checker

import "fmt"

// Replicas that applied the same txns in the same order hold the same tree, so their
// digests agree at every zxid (ZooKeeper's built-in consistency check, ZOOKEEPER-3114):
// two servers whose digests differ after applying one zxid diverged, whatever reads show.
// The host records each server's (zxid, digest) after every apply (zab/node's Committed
// output carries both) and feeds them here as they happen, so a run stops at the first
// divergence.

// CheckReplicaDigest names the digest-agreement check in the errors of ReplicaDigests.
const CheckReplicaDigest = "ReplicaDigest"

// DigestSample is one server's tree digest right after it applied Zxid.
type DigestSample struct {
	Server string
	Zxid   int64
	Digest uint64
}

// ReplicaDigests checks digest agreement at equal zxids incrementally: it keeps the first
// sample of each zxid and compares every later one with it. Memory is one sample per zxid.
type ReplicaDigests struct {
	first map[int64]DigestSample
}

// NewReplicaDigests returns a checker that has seen no sample.
func NewReplicaDigests() *ReplicaDigests {
	return &ReplicaDigests{first: map[int64]DigestSample{}}
}

// Observe takes one sample and returns an error naming both servers when an earlier
// sample of the same zxid has another digest.
func (d *ReplicaDigests) Observe(s DigestSample) error {
	prev, ok := d.first[s.Zxid]
	if !ok {
		d.first[s.Zxid] = s
		return nil
	}
	if prev.Digest != s.Digest {
		return fmt.Errorf("%s: replica digests differ at zxid %s: %s has %#x, %s has %#x",
			CheckReplicaDigest, formatZxid(s.Zxid), prev.Server, prev.Digest, s.Server, s.Digest)
	}
	return nil
}
