package node

import (
	"github.com/zabkit/zabkit/zab"
	"github.com/zabkit/zabkit/zab/tree"
)

// Output is one effect the host carries out, in the order Handle returned them.
type Output interface{ isOutput() }

// SendPeer sends a message to Message.To now.
type SendPeer struct{ Message Message }

// Persist is zab's durable write (see zab.Persist: the host executes it with zab/storage).
// Once it is durable the host sends After, in order, and reports Persisted{Write.ID}.
// Write.After is always empty: its messages are in After, wrapped for the wire.
type Persist struct {
	Write zab.Persist
	After []Message
}

// ClientSend writes one encoded frame (length prefix included) to a client connection.
type ClientSend struct {
	Conn  ConnID
	Frame []byte
}

// CloseClient closes a client connection after the frames sent before it. The host must not
// report ClientClosed for it afterwards (it may; the node ignores unknown connections).
type CloseClient struct {
	Conn   ConnID
	Reason string
}

// SaveSnapshot asks the host to store a snapshot of the committed state at Zxid
// (storage.Store.SaveSnapshot, which also purges the log behind the retained snapshots).
// It is emitted only once the log is durable up to Zxid.
//
// View is the tree frozen at Zxid (tree.Freeze, copy-on-write), not its bytes: the host
// calls View.Snapshot where a large tree's serialization stalls nobody (the daemon on its
// snapshot goroutine, while this node goes on changing the tree; ZooKeeper's
// SyncRequestProcessor likewise snapshots on a thread of its own). A host that skips the
// snapshot just drops the View.
type SaveSnapshot struct {
	Zxid zab.Zxid
	View *tree.View
}

// StateChanged passes zab's role and phase changes on, for the host's logs and metrics.
type StateChanged struct{ State zab.StateChanged }

// Committed reports a txn this member applied, in zxid order, with the tree digest right
// after it: the checker compares digests of members at equal zxids. Data decodes with
// DecodeTxn.
type Committed struct {
	Zxid   zab.Zxid
	Data   []byte
	Digest uint64
}

func (SendPeer) isOutput()     {}
func (Persist) isOutput()      {}
func (ClientSend) isOutput()   {}
func (CloseClient) isOutput()  {}
func (SaveSnapshot) isOutput() {}
func (StateChanged) isOutput() {}
func (Committed) isOutput()    {}
