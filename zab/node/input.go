package node

import "github.com/zabkit/zabkit/zab"

// ConnID names one client connection. The host allocates them and never reuses one within
// a node's lifetime (between New and a crash): replies are matched to connections by it.
type ConnID uint64

// Input is one event handed to Node.Handle.
type Input interface{ isInput() }

// Tick says time has passed.
type Tick struct{}

// PeerMessage delivers a message another member sent. The host fills Message.From from the
// connection it arrived on.
type PeerMessage struct{ Message Message }

// ClientConnected reports a new client connection. Remote is the client's IP address without
// the port: it becomes the connection's "ip" auth id.
type ClientConnected struct {
	Conn   ConnID
	Remote string
}

// ClientFrame delivers one frame from a client: the payload without its 4-byte length
// prefix. A host that reads with wire.FrameReader has already closed connections whose
// length prefix is out of range (and answered four-letter words); the node refuses a payload
// longer than Config.FrameBytesMax the same way, by closing without a reply.
type ClientFrame struct {
	Conn    ConnID
	Payload []byte
}

// ClientClosed reports that the client's connection is gone. The session lives on until it
// expires or the client resumes it elsewhere.
type ClientClosed struct{ Conn ConnID }

// Persisted reports that every Persist with an ID up to ID is durable (zab.Persisted).
type Persisted struct{ ID uint64 }

func (Tick) isInput()            {}
func (PeerMessage) isInput()     {}
func (ClientConnected) isInput() {}
func (ClientFrame) isInput()     {}
func (ClientClosed) isInput()    {}
func (Persisted) isInput()       {}

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
type SaveSnapshot struct {
	Zxid zab.Zxid
	Data []byte
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
