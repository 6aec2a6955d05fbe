package daemon

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zabkit/zabkit/zab/node"
	"github.com/zabkit/zabkit/zab/wire"
)

// clientConn is one client TCP connection: a reader goroutine turns frames into node
// inputs, a writer goroutine writes the frames the node sends.
type clientConn struct {
	s      *Server
	id     node.ConnID
	nc     net.Conn
	ip     string
	remote string
	est    time.Time

	mu          sync.Mutex
	queue       [][]byte // frames to write, oldest first
	queueBytes  int
	closing     bool // write what is queued, then close
	wake        chan struct{}
	done        chan struct{} // closed once the socket is closed
	doneOnce    sync.Once
	inflight    []request // requests read and not answered, oldest first
	handshaken  bool      // the node sent the ConnectResponse
	sessionID   int64
	timeoutMs   int32
	lastOp      wire.OpCode
	lastCxid    int32
	hasCxid     bool
	lastZxid    int64
	lastLatency time.Duration
	lastResp    time.Time
	lat         latency

	received atomic.Uint64 // frames read
	sent     atomic.Uint64 // frames written
	told     atomic.Bool   // the node knows this connection (ClientConnected was sent)
}

// request is one read request waiting for its reply, for latency.
type request struct {
	xid int32
	op  wire.OpCode
	at  time.Time
}

const inflightMax = 4096

// Read flow control (ZooKeeper stops reading a connection's socket while too many of its
// requests, or of the server's, are outstanding: ServerCnxn throttling and
// globalOutstandingLimit). TCP then pushes back on the client; the connection stays open.
// The per-connection bound sits below the node's RequestsPerConnectionMax (1000), so a deep
// pipeline waits instead of being closed as "too many pending requests".
const (
	connRequestsInFlightMax   = 500
	serverRequestsInFlightMax = 2000
)

func (s *Server) acceptLoop() {
	defer s.wg.Done()
	var backoff time.Duration
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			if !s.accepting.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			// EMFILE and friends: wait and retry rather than spin or give up.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.log.Warn("accept failed", "err", err, "retryIn", backoff)
			select {
			case <-time.After(backoff):
			case <-s.stop:
				return
			}
			continue
		}
		backoff = 0
		s.admit(nc)
	}
}

// admit enforces maxClientCnxns per IP (ZooKeeper's NIOServerCnxnFactory) and starts the
// connection's goroutines.
func (s *Server) admit(nc net.Conn) {
	ip, _, _ := net.SplitHostPort(nc.RemoteAddr().String())
	s.connMu.Lock()
	if max := s.cfg.MaxClientCnxns; max > 0 && s.perIP[ip] >= max {
		s.connMu.Unlock()
		s.log.Warn("too many connections from one IP, closing", "ip", ip, "max", max)
		s.metrics.connRejected.Inc()
		nc.Close()
		return
	}
	if !s.accepting.Load() {
		s.connMu.Unlock()
		nc.Close()
		return
	}
	c := &clientConn{
		s: s, id: node.ConnID(s.nextConn.Add(1)), nc: nc, ip: ip, remote: nc.RemoteAddr().String(),
		est: time.Now(), wake: make(chan struct{}, 1), done: make(chan struct{}), lastZxid: -1,
	}
	s.conns[c.id] = c
	s.perIP[ip]++
	s.wg.Add(2)
	s.connMu.Unlock()
	if tc, ok := nc.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
		tc.SetKeepAlivePeriod(30 * time.Second)
	}
	go c.readLoop()
	go c.writeLoop()
}

// forget removes a closed connection from the tables (once).
func (c *clientConn) forget() {
	s := c.s
	s.connMu.Lock()
	defer s.connMu.Unlock()
	if s.conns[c.id] != c {
		return
	}
	c.mu.Lock()
	s.requestsInFlight.Add(-int64(len(c.inflight)))
	c.inflight = nil
	c.mu.Unlock()
	defer s.wakeReaders()
	delete(s.conns, c.id)
	if s.perIP[c.ip]--; s.perIP[c.ip] <= 0 {
		delete(s.perIP, c.ip)
	}
}

// input hands an input to the node goroutine, waiting while its queue is full (TCP then
// pushes back on the client); false once the server stops.
func (s *Server) input(in node.Input) bool {
	select {
	case s.inputs <- in:
		return true
	case <-s.stop:
		return false
	}
}

func (c *clientConn) readLoop() {
	s := c.s
	defer s.wg.Done()
	defer c.forget()
	br := bufio.NewReaderSize(c.nc, 64<<10)
	fr := wire.NewFrameReader(br, wireFrameBytesMax)
	first := true
	for {
		if !c.waitForRoom() {
			// The socket was closed under us (the node closed it, or a write failed) or the
			// server stops: close it (the writer waits for that), tell the node.
			c.abort()
			if c.told.Load() {
				s.input(node.ClientClosed{Conn: c.id})
			}
			return
		}
		c.nc.SetReadDeadline(time.Now().Add(c.readTimeout(first)))
		payload, err := fr.Next()
		if err != nil {
			var lenErr *wire.FrameLengthError
			switch {
			case first && errors.As(err, &lenErr) && isFourLetterWord(lenErr.Word()):
				// br holds what followed the word: stmk's eight mask bytes.
				c.fourLetter(lenErr.Word(), br)
				return
			case errors.As(err, &lenErr):
				s.logClose("client frame length out of range, closing the connection", "frame too large", "conn", uint64(c.id), "remote", c.remote, "err", err)
				s.metrics.badFrames.Inc()
			case errors.Is(err, os.ErrDeadlineExceeded):
				s.logClose("client connection idle past its timeout, closing", "idle past the session timeout", "conn", uint64(c.id), "remote", c.remote)
			case !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed):
				s.log.Debug("client connection read failed", "conn", uint64(c.id), "remote", c.remote, "err", err)
			}
			c.abort()
			if c.told.Load() {
				s.input(node.ClientClosed{Conn: c.id})
			}
			return
		}
		c.received.Add(1)
		s.metrics.packetsReceived.Add(1)
		frame := append([]byte(nil), payload...)
		if first {
			first = false
			c.told.Store(true)
			if !s.input(node.ClientConnected{Conn: c.id, Remote: c.ip}) {
				c.abort()
				return
			}
		} else {
			c.noteRequest(frame)
		}
		if !s.input(node.ClientFrame{Conn: c.id, Payload: frame}) {
			c.abort()
			return
		}
	}
}

// readTimeout is how long a read may wait: the first frame within the connect timeout,
// later ones within the session timeout (a live client pings at a third of it), so an
// idle or vanished client is closed after its session timeout.
func (c *clientConn) readTimeout(first bool) time.Duration {
	if first {
		return fourLetterReadMax
	}
	c.mu.Lock()
	to := c.timeoutMs
	c.mu.Unlock()
	if to <= 0 {
		return time.Duration(c.s.cfg.MaxSessionTimeoutMillis) * time.Millisecond
	}
	return time.Duration(to) * time.Millisecond
}

// noteRequest records a request's xid and opcode for cons and the latency figures.
func (c *clientConn) noteRequest(frame []byte) {
	if len(frame) < 8 {
		return
	}
	xid := int32(binary.BigEndian.Uint32(frame))
	op := wire.OpCode(int32(binary.BigEndian.Uint32(frame[4:])))
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lastOp = op
	if xid >= 0 {
		c.lastCxid, c.hasCxid = xid, true
	}
	if len(c.inflight) >= inflightMax {
		c.inflight = c.inflight[1:]
		c.s.requestsInFlight.Add(-1)
	}
	c.inflight = append(c.inflight, request{xid: xid, op: op, at: time.Now()})
	c.s.requestsInFlight.Add(1)
}

// waitForRoom blocks the reader while the connection, or the server as a whole, has too many
// requests read and not answered, or the server is stopping gracefully (Close); false once
// the connection is closed or the server stops.
//
// A request that gets no reply (a check outside multi that passes: Apache ZooKeeper 3.8.0
// answers nothing) counts until a later reply on the connection answers past it. A client
// that pipelines connRequestsInFlightMax such checks and nothing else is not read again
// until its session expires; it would wait forever for those replies from ZooKeeper too.
// Replies (noteReply), closes (abort, forget) and Close wake it.
func (c *clientConn) waitForRoom() bool {
	s := c.s
	s.flowMu.Lock()
	defer s.flowMu.Unlock()
	waited := false
	for {
		select {
		case <-c.done:
			return false
		case <-s.stop:
			return false
		default:
		}
		c.mu.Lock()
		mine := len(c.inflight)
		c.mu.Unlock()
		// A graceful stop reads nothing more: the requests already read are answered, and a
		// client that keeps sending cannot keep the drain from finishing (or have requests
		// applied and left unanswered when the drain's time runs out).
		if mine < connRequestsInFlightMax && s.requestsInFlight.Load() < serverRequestsInFlightMax && !s.closeStart.Load() {
			return true
		}
		if !waited {
			waited = true
			s.metrics.readsThrottled.Inc()
		}
		s.flowCond.Wait()
	}
}

// wakeReaders wakes readers waiting in waitForRoom to look again.
func (s *Server) wakeReaders() {
	s.flowMu.Lock()
	s.flowCond.Broadcast()
	s.flowMu.Unlock()
}

// noteReply matches a reply frame (length prefix included) to its request, and wakes a
// reader waiting for room when that answered requests.
func (c *clientConn) noteReply(frame []byte) {
	if c.matchReply(frame) {
		c.s.wakeReaders()
	}
}

// matchReply records a reply; true when it answered requests (dropping them from inflight,
// with any earlier ones that get no reply, such as a check that passed).
func (c *clientConn) matchReply(frame []byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.handshaken {
		// The first frame is the ConnectResponse: protocolVersion, timeOut, sessionId.
		c.handshaken = true
		if len(frame) >= 20 {
			c.timeoutMs = int32(binary.BigEndian.Uint32(frame[8:]))
			c.sessionID = int64(binary.BigEndian.Uint64(frame[12:]))
		}
		return false
	}
	if len(frame) < 16 {
		return false
	}
	xid := int32(binary.BigEndian.Uint32(frame[4:]))
	if xid == wire.XidNotification {
		return false
	}
	c.lastZxid = int64(binary.BigEndian.Uint64(frame[8:]))
	for i, r := range c.inflight {
		if r.xid == xid {
			now := time.Now()
			d := now.Sub(r.at)
			c.lastLatency, c.lastResp = d, now
			c.lat.add(d)
			c.s.metrics.observeLatency(r.op, d)
			c.inflight = c.inflight[i+1:]
			c.s.requestsInFlight.Add(-int64(i + 1))
			return true
		}
	}
	return false
}

// clientSend queues a frame for the connection's writer (node goroutine).
func (s *Server) clientSend(id node.ConnID, frame []byte) {
	s.connMu.Lock()
	c := s.conns[id]
	s.connMu.Unlock()
	if c == nil {
		return
	}
	c.noteReply(frame)
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return
	}
	if queued := c.queueBytes; queued+len(frame) > connQueueBytesMax {
		c.mu.Unlock()
		s.logClose("client does not read its replies, closing", "too many unsent reply bytes", "conn", uint64(id), "remote", c.remote, "queuedBytes", queued)
		c.abort()
		return
	}
	c.queue = append(c.queue, frame)
	c.queueBytes += len(frame)
	c.mu.Unlock()
	c.signal()
}

// closeClient closes a connection after the frames queued before it (node goroutine).
func (s *Server) closeClient(id node.ConnID, reason string) {
	s.connMu.Lock()
	c := s.conns[id]
	s.connMu.Unlock()
	if c == nil {
		return
	}
	s.logClose("closing client connection", reason, "conn", uint64(id), "remote", c.remote, "session", fmt.Sprintf("%#x", c.session()))
	c.told.Store(false) // the node forgot it; no ClientClosed needed
	c.mu.Lock()
	c.closing = true
	c.mu.Unlock()
	c.signal()
}

// clientsIdle reports whether every request read has been answered and every answer
// handed to the socket.
func (s *Server) clientsIdle() bool {
	s.connMu.Lock()
	defer s.connMu.Unlock()
	for _, c := range s.conns {
		c.mu.Lock()
		busy := len(c.queue) > 0 || (len(c.inflight) > 0 && !c.closing)
		c.mu.Unlock()
		if busy {
			return false
		}
	}
	return true
}

func (c *clientConn) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// abort closes the socket now, dropping unsent frames.
func (c *clientConn) abort() {
	c.doneOnce.Do(func() {
		close(c.done)
		c.nc.Close()
		c.s.wakeReaders()
	})
}

func (c *clientConn) writeLoop() {
	defer c.s.wg.Done()
	w := bufio.NewWriterSize(c.nc, 64<<10)
	for {
		c.mu.Lock()
		batch, closing := c.queue, c.closing
		c.queue, c.queueBytes = nil, 0
		c.mu.Unlock()
		if len(batch) == 0 {
			if closing {
				c.abort()
				return
			}
			select {
			case <-c.wake:
				continue
			case <-c.done:
				return
			}
		}
		c.nc.SetWriteDeadline(time.Now().Add(queryWaitMax))
		for _, f := range batch {
			if _, err := w.Write(f); err != nil {
				c.abort()
				return
			}
		}
		if err := w.Flush(); err != nil {
			c.abort()
			return
		}
		c.sent.Add(uint64(len(batch)))
		c.s.metrics.packetsSent.Add(uint64(len(batch)))
	}
}

// wireFrameBytesMax is jute.maxbuffer: frames above it close the connection unanswered.
const wireFrameBytesMax = wire.FrameBytesMaxDefault

// session is the connection's session id, 0 before the handshake.
func (c *clientConn) session() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sessionID
}
