package zab

// Input is one event handed to Peer.Handle: Tick, Receive, Propose or Persisted.
type Input interface{ isInput() }

// Tick says time has passed; the peer fires the timers that are due at now.
type Tick struct{}

// Receive delivers a message from another peer. The host sets Message.From from the
// connection it came on.
type Receive struct{ Message Message }

// Propose asks the leader to broadcast a txn. The answer is a Proposed output with the zxid
// it got, or a Rejected output (never silence).
type Propose struct{ Data []byte }

// Persisted reports that every Persist output with an ID up to and including ID is durable.
type Persisted struct{ ID uint64 }

func (Tick) isInput()      {}
func (Receive) isInput()   {}
func (Propose) isInput()   {}
func (Persisted) isInput() {}
