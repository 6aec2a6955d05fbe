package conformance

import (
	"encoding/binary"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/zabkit/zabkit/zab/wire"
)

// Bounds of the raw client.
const (
	// replyFrameBytesMax is what the client accepts from a server: replies are not policed by
	// the reference server (zk-protocol.md §1.4), so allow more than a request may carry.
	replyFrameBytesMax = 8 << 20
	// framesQueued bounds the frames read ahead of the test, per connection.
	framesQueued = 4096
	// replyWaitMax bounds the wait for one reply; a server that neither replies nor closes
	// within it is recorded as "no reply".
	replyWaitMax = 3 * time.Second
	dialWaitMax  = 5 * time.Second
)

// Outcome is what became of one request or handshake on a connection.
type Outcome int

// Outcomes.
const (
	Replied      Outcome = iota // a frame answered it
	ClosedSilent                // the server closed the connection without answering
	NoReply                     // neither a reply nor a close within replyWaitMax
	NotConnected                // the session had no open connection; nothing was sent
	BadFrame                    // the answer could not be decoded
)

func (o Outcome) String() string {
	switch o {
	case Replied:
		return "replied"
	case ClosedSilent:
		return "closed-without-reply"
	case NoReply:
		return "no-reply"
	case NotConnected:
		return "not-connected"
	case BadFrame:
		return "undecodable-reply"
	}
	return fmt.Sprintf("outcome(%d)", int(o))
}

// Conn is a raw ZooKeeper client connection built on zab/wire's client-side codec: it sends
// exactly the frames it is given and reports every frame the server sends, notifications
// included, in stream order. One goroutine reads frames; calls are made by one goroutine at a
// time, except that a background pinger may write pings (xid -2), whose replies are dropped.
type Conn struct {
	nc     net.Conn
	wmu    sync.Mutex
	frames chan frame
	stop   chan struct{}
	once   sync.Once
	closed bool // set by the caller's goroutine when the stream ended
}

type frame struct {
	payload []byte
	err     error // io.EOF or a read error; the last frame
}

// Handshake is the outcome of a ConnectRequest.
type Handshake struct {
	Outcome  Outcome
	Response wire.ConnectResponse
	Err      error
}

// Dial opens a connection, sends req (44 or 45 bytes by req.HasReadOnly) and reads the
// ConnectResponse. The Conn is nil unless the outcome is Replied.
func Dial(addr string, req wire.ConnectRequest) (*Conn, Handshake) {
	nc, err := net.DialTimeout("tcp", addr, dialWaitMax)
	if err != nil {
		return nil, Handshake{Outcome: NotConnected, Err: err}
	}
	c := &Conn{nc: nc, frames: make(chan frame, framesQueued), stop: make(chan struct{})}
	go c.readLoop()
	if err := c.write(wire.AppendConnectRequest(nil, &req)); err != nil {
		c.Close()
		return nil, Handshake{Outcome: ClosedSilent, Err: err}
	}
	f, outcome := c.next(replyWaitMax)
	if outcome != Replied {
		c.Close()
		return nil, Handshake{Outcome: outcome}
	}
	resp, err := wire.DecodeConnectResponse(f.payload)
	if err != nil {
		c.Close()
		return nil, Handshake{Outcome: BadFrame, Err: err}
	}
	return c, Handshake{Outcome: Replied, Response: resp}
}

func (c *Conn) readLoop() {
	defer close(c.frames)
	fr := wire.NewFrameReader(c.nc, replyFrameBytesMax)
	for {
		p, err := fr.Next()
		if err != nil {
			select {
			case c.frames <- frame{err: err}:
			case <-c.stop:
			}
			return
		}
		// FrameReader may reuse its buffer.
		p = append([]byte(nil), p...)
		select {
		case c.frames <- frame{payload: p}:
		case <-c.stop:
			return
		}
	}
}

func (c *Conn) write(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.nc.SetWriteDeadline(time.Now().Add(replyWaitMax)); err != nil {
		return err
	}
	_, err := c.nc.Write(b)
	return err
}

// next returns the next frame, or the outcome that ended the wait.
func (c *Conn) next(wait time.Duration) (frame, Outcome) {
	if c.closed {
		return frame{}, ClosedSilent
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case f, ok := <-c.frames:
		if !ok || f.err != nil {
			c.closed = true
			return frame{}, ClosedSilent
		}
		return f, Replied
	case <-timer.C:
		return frame{}, NoReply
	}
}

// Exchange is what one request produced on its connection.
type Exchange struct {
	Outcome Outcome
	Reply   wire.Reply // valid when Outcome is Replied
	// Events are the notifications received before the reply (or before the close).
	Events []wire.WatcherEvent
	Err    error
}

// Call writes one request frame and reads frames until the reply with the request's xid.
// Notifications met on the way are collected; ping replies (xid -2) are dropped unless the
// request is itself a ping. op tells DecodeReply which body to expect.
func (c *Conn) Call(xid int32, op wire.OpCode, frameBytes []byte) Exchange {
	if err := c.write(frameBytes); err != nil {
		// The server may already have closed: report what it sent before that.
		ex := c.drain()
		ex.Err = err
		return ex
	}
	var ex Exchange
	// One deadline for the whole wait: the pinger's replies must not keep extending it.
	deadline := time.Now().Add(replyWaitMax)
	for {
		wait := time.Until(deadline)
		if wait <= 0 {
			ex.Outcome = NoReply
			return ex
		}
		f, outcome := c.next(wait)
		if outcome != Replied {
			ex.Outcome = outcome
			return ex
		}
		h, err := replyHeader(f.payload)
		if err != nil {
			ex.Outcome, ex.Err = BadFrame, err
			return ex
		}
		switch h.Xid {
		case wire.XidNotification:
			rep, err := wire.DecodeReply(f.payload, op)
			if err != nil {
				ex.Outcome, ex.Err = BadFrame, fmt.Errorf("notification %x: %w", f.payload, err)
				return ex
			}
			ex.Events = append(ex.Events, *rep.Body.(*wire.WatcherEvent))
			continue
		case xid:
			rep, err := wire.DecodeReply(f.payload, op)
			if err != nil {
				ex.Outcome, ex.Err = BadFrame, fmt.Errorf("reply to op %d: %w", op, err)
				return ex
			}
			ex.Outcome, ex.Reply = Replied, rep
			return ex
		case wire.XidPing:
			continue // the pinger's
		}
		ex.Outcome, ex.Err = BadFrame, fmt.Errorf("reply xid %d while waiting for xid %d", h.Xid, xid)
		return ex
	}
}

// replyHeader decodes the 16-byte ReplyHeader at the start of a server frame, whatever
// follows it (§3.1: int xid, long zxid, int err).
func replyHeader(payload []byte) (wire.ReplyHeader, error) {
	if len(payload) < 16 {
		return wire.ReplyHeader{}, fmt.Errorf("server frame of %d bytes has no reply header", len(payload))
	}
	return wire.ReplyHeader{
		Xid:  int32(binary.BigEndian.Uint32(payload[0:4])),
		Zxid: int64(binary.BigEndian.Uint64(payload[4:12])),
		Err:  wire.Err(int32(binary.BigEndian.Uint32(payload[12:16]))),
	}, nil
}

// drain collects the notifications still queued until the stream ends or stays quiet for a
// short while; it reports ClosedSilent when the stream ended, and BadFrame (with Err) when a
// notification does not decode, instead of passing over it.
func (c *Conn) drain() Exchange {
	var ex Exchange
	deadline := time.Now().Add(closeWaitMax)
	for time.Now().Before(deadline) {
		f, outcome := c.next(200 * time.Millisecond)
		if outcome != Replied {
			ex.Outcome = outcome
			return ex
		}
		ev, isNote, err := notification(f.payload)
		if err != nil {
			ex.Outcome, ex.Err = BadFrame, err
			return ex
		}
		if isNote {
			ex.Events = append(ex.Events, ev)
		}
	}
	ex.Outcome = NoReply
	return ex
}

// notification decodes a server frame that is a watch event (xid -1); isNote is false for any
// other frame (a ping reply, say), err set when the frame is a notification that does not
// decode or has no reply header at all.
func notification(payload []byte) (ev wire.WatcherEvent, isNote bool, err error) {
	h, err := replyHeader(payload)
	if err != nil {
		return ev, false, err
	}
	if h.Xid != wire.XidNotification {
		return ev, false, nil
	}
	rep, err := wire.DecodeReply(payload, wire.OpNotification)
	if err != nil {
		return ev, true, fmt.Errorf("notification %x: %w", payload, err)
	}
	return *rep.Body.(*wire.WatcherEvent), true, nil
}

// WaitClosed reads until the server closes the connection (after a closeSession reply or an
// auth failure) or wait passes, collecting notifications; it reports whether the stream ended.
// A notification that does not decode ends the wait with err set (the events before it are
// returned): the caller records it as a BadFrame rather than losing it.
func (c *Conn) WaitClosed(wait time.Duration) (closed bool, events []wire.WatcherEvent, err error) {
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		f, outcome := c.next(time.Until(deadline))
		switch outcome {
		case ClosedSilent:
			return true, events, nil
		case NoReply:
			return false, events, nil
		}
		ev, isNote, err := notification(f.payload)
		if err != nil {
			return false, events, err
		}
		if isNote {
			events = append(events, ev)
		}
	}
	return false, events, nil
}

// StartPinger sends a ping every interval until the connection is closed, as every client
// does at a third of the session timeout (§2.7), so that slow test steps cannot expire a
// session by accident.
func (c *Conn) StartPinger(interval time.Duration) {
	ping := wire.AppendRequest(nil, wire.RequestHeader{Xid: wire.XidPing, Type: wire.OpPing}, nil)
	go func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-c.stop:
				return
			case <-t.C:
				if err := c.write(ping); err != nil {
					return
				}
			}
		}
	}()
}

// Close closes the connection (without closeSession: the session lives on until it expires)
// and stops the goroutines.
func (c *Conn) Close() {
	c.once.Do(func() {
		close(c.stop)
		_ = c.nc.Close()
	})
}
