package zab

import "fmt"

// Epoch numbers a leader's reign. Each established leader owns exactly one epoch.
type Epoch uint32

// Zxid is a ZooKeeper transaction id: the epoch in the high 32 bits, a counter that restarts
// at 1 in every epoch in the low 32 bits. Zxids of one history are strictly increasing.
type Zxid uint64

// MakeZxid builds the zxid of the counter-th txn of epoch e.
func MakeZxid(e Epoch, counter uint32) Zxid { return Zxid(uint64(e)<<32 | uint64(counter)) }

// Epoch is the epoch in which z was proposed.
func (z Zxid) Epoch() Epoch { return Epoch(z >> 32) }

// Counter is z's position inside its epoch, starting at 1.
func (z Zxid) Counter() uint32 { return uint32(z) }

func (z Zxid) String() string { return fmt.Sprintf("%d.%d", z.Epoch(), z.Counter()) }

// PeerID is a server id (ZooKeeper's sid, the N of server.N in zoo.cfg).
type PeerID uint64

// Time is the host's clock in milliseconds. The core never reads a clock: every Handle call
// passes the current time, and every timeout is a deadline computed from it.
type Time int64

// Txn is one logged transaction: its zxid and its opaque bytes.
type Txn struct {
	Zxid Zxid
	Data []byte
}

// Snapshot is the state machine's state after applying every txn up to Zxid.
type Snapshot struct {
	Zxid Zxid
	Data []byte
}
