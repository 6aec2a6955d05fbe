package node

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
