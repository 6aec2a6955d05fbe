// Package peer is the TCP transport between the servers of an ensemble: it carries
// node.Message values, framed and length-limited, over one connection per pair of servers,
// reconnecting with backoff when a connection breaks.
//
// Who connects: only the server with the higher id dials. ZooKeeper's QuorumCnxManager ends
// in the same place by a detour: both sides may dial, and a server receiving a connection
// from a lower sid closes it and dials back, so the connection that survives was always
// opened by the higher sid. Dialing from one side only gets that result without the
// simultaneous-connect race (each side dropping the other's connection) and without the
// wasted round trip. A lower-id server that has messages for a higher one keeps them queued
// until the higher one connects; when an old connection to the same peer is still open (a
// peer that restarted), the newer one replaces it.
//
// Loss is allowed: zab resends what matters on its pings and election rounds, so a send
// queue that is full drops its oldest message (counted) rather than blocking the node's
// goroutine, and messages in flight when a connection breaks are lost. Received messages are
// never dropped: a full receive queue stops reading, and TCP pushes back on the sender.
package peer

import (
	"bufio"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/zabkit/zabkit/zab"
	"github.com/zabkit/zabkit/zab/node"
)

// Config configures a Transport.
type Config struct {
	ID zab.PeerID
	// Peers maps every other server's id to its peer address (host:port).
	Peers map[zab.PeerID]string
	// SendQueueMessagesMax bounds the messages queued for one peer. Default 4096.
	SendQueueMessagesMax int
	// ReceiveQueueMessagesMax bounds the received messages waiting for Receive. Default 4096.
	ReceiveQueueMessagesMax int
	// FrameBytesMax bounds one frame; a longer one closes the connection. Default: the
	// largest message zab can encode (zab.MessageDataBytesMax of data plus its header), since
	// a SNAP carries the whole tree.
	FrameBytesMax int
	// BackoffMin and BackoffMax bound the wait between dial attempts, which doubles after
	// each failure and restarts from BackoffMin after a connection succeeds. Defaults 50 ms
	// and 2 s: well under an initLimit, so a restarted server is found again quickly.
	BackoffMin, BackoffMax time.Duration
	Logger                 *slog.Logger
}

const (
	defaultQueueMessagesMax = 4096
	frameOverheadBytes      = 256 // node.Message and zab.Message headers: bytes and varints
	defaultBackoffMin       = 50 * time.Millisecond
	defaultBackoffMax       = 2 * time.Second
	dialTimeout             = 3 * time.Second
	handshakeTimeout        = 5 * time.Second
	// writeTimeout bounds the wait for progress on a write: a peer that takes no
	// writeChunkBytes for this long is treated as gone rather than allowed to stall its
	// writer forever. It is per chunk, not per frame, so a large SNAP on a slow link is not
	// cut off for being large.
	writeTimeout    = 10 * time.Second
	writeChunkBytes = 1 << 20
)

// progressWriter writes to a connection in chunks, each with a fresh write deadline.
type progressWriter struct{ c net.Conn }

func (w progressWriter) Write(p []byte) (int, error) {
	written := 0
	for written < len(p) {
		chunk := p[written:min(len(p), written+writeChunkBytes)]
		if err := w.c.SetWriteDeadline(time.Now().Add(writeTimeout)); err != nil {
			return written, err
		}
		n, err := w.c.Write(chunk)
		written += n
		if err != nil {
			return written, err
		}
	}
	return written, nil
}

// Stats counts one peer's traffic.
type Stats struct {
	Connected bool
	Connects  uint64 // connections established, by either side
	Sent      uint64 // messages written to a connection
	Received  uint64 // messages read from a connection
	Dropped   uint64 // messages dropped from a full send queue, or for lack of a connection at Close
}

// Transport sends and receives zab messages for one server.
type Transport struct {
	cfg  Config
	ln   net.Listener
	log  *slog.Logger
	recv chan node.Message
	done chan struct{}
	wg   sync.WaitGroup

	peers map[zab.PeerID]*peer // fixed at New

	mu       sync.Mutex
	closed   bool
	accepted map[net.Conn]struct{} // connections still in their handshake
}

// peer is the state kept for one remote server.
type peer struct {
	id   zab.PeerID
	addr string
	wake chan struct{} // capacity 1: the send queue has messages

	mu    sync.Mutex
	queue []node.Message // oldest first; at most SendQueueMessagesMax
	conn  *conn
	stats Stats
}

// conn is one established connection to a peer.
type conn struct {
	c    net.Conn
	peer *peer
	done chan struct{}
	once sync.Once
}

func (c *conn) close() {
	c.once.Do(func() {
		close(c.done)
		c.c.Close()
	})
}

// New starts a transport that accepts peers on ln (which it closes at Close) and dials the
// peers with a lower id.
func New(cfg Config, ln net.Listener) (*Transport, error) {
	if cfg.ID == 0 {
		return nil, errors.New("peer: server id 0 is reserved")
	}
	if _, ok := cfg.Peers[cfg.ID]; ok {
		return nil, fmt.Errorf("peer: server %d lists itself among its peers", cfg.ID)
	}
	if cfg.SendQueueMessagesMax <= 0 {
		cfg.SendQueueMessagesMax = defaultQueueMessagesMax
	}
	if cfg.ReceiveQueueMessagesMax <= 0 {
		cfg.ReceiveQueueMessagesMax = defaultQueueMessagesMax
	}
	if cfg.FrameBytesMax <= 0 {
		cfg.FrameBytesMax = zab.MessageDataBytesMax + frameOverheadBytes
	}
	if cfg.BackoffMin <= 0 {
		cfg.BackoffMin = defaultBackoffMin
	}
	if cfg.BackoffMax < cfg.BackoffMin {
		cfg.BackoffMax = max(defaultBackoffMax, cfg.BackoffMin)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	t := &Transport{
		cfg:      cfg,
		ln:       ln,
		log:      cfg.Logger.With("server", uint64(cfg.ID)),
		recv:     make(chan node.Message, cfg.ReceiveQueueMessagesMax),
		done:     make(chan struct{}),
		peers:    make(map[zab.PeerID]*peer, len(cfg.Peers)),
		accepted: map[net.Conn]struct{}{},
	}
	for id, addr := range cfg.Peers {
		t.peers[id] = &peer{id: id, addr: addr, wake: make(chan struct{}, 1)}
	}
	t.wg.Add(1)
	go t.acceptLoop()
	ids := make([]zab.PeerID, 0, len(t.peers))
	for id := range t.peers {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		if id < cfg.ID {
			t.wg.Add(1)
			go t.dialLoop(t.peers[id])
		}
	}
	return t, nil
}

// Addr is the address the transport listens on.
func (t *Transport) Addr() net.Addr { return t.ln.Addr() }

// Receive delivers the messages received from every peer.
func (t *Transport) Receive() <-chan node.Message { return t.recv }

// Send queues m for m.To and returns at once. When that peer's queue is full the oldest
// queued message is dropped. A message for an unknown server, or sent after Close, is
// dropped and reported false.
func (t *Transport) Send(m node.Message) bool {
	p, ok := t.peers[m.To]
	if !ok {
		t.log.Warn("message for an unknown server dropped", "to", uint64(m.To), "kind", m.Kind.String())
		return false
	}
	p.mu.Lock()
	select {
	case <-t.done:
		p.stats.Dropped++
		p.mu.Unlock()
		return false
	default:
	}
	if len(p.queue) >= t.cfg.SendQueueMessagesMax {
		p.queue[0] = node.Message{} // release its Data
		p.queue = p.queue[1:]
		p.stats.Dropped++
	}
	p.queue = append(p.queue, m)
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
	return true
}

// Stats returns the counters of peer id.
func (t *Transport) Stats(id zab.PeerID) Stats {
	p, ok := t.peers[id]
	if !ok {
		return Stats{}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.stats
	s.Connected = p.conn != nil
	return s
}

// Close stops listening and dialing, closes every connection and waits for the transport's
// goroutines. Queued messages are dropped.
func (t *Transport) Close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	close(t.done)
	for c := range t.accepted {
		c.Close()
	}
	t.mu.Unlock()
	err := t.ln.Close()
	for _, p := range t.peers {
		p.mu.Lock()
		if p.conn != nil {
			p.conn.close()
		}
		p.stats.Dropped += uint64(len(p.queue))
		p.queue = nil
		p.mu.Unlock()
	}
	t.wg.Wait()
	return err
}

func (t *Transport) acceptLoop() {
	defer t.wg.Done()
	var pause time.Duration
	for {
		c, err := t.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors and the like: wait and retry, as net/http's server
			// does, rather than spin or give up on peers for good.
			pause = min(max(2*pause, 5*time.Millisecond), time.Second)
			t.log.Warn("accepting a peer connection failed", "err", err, "retry", pause)
			select {
			case <-t.done:
				return
			case <-time.After(pause):
			}
			continue
		}
		pause = 0
		t.mu.Lock()
		if t.closed {
			t.mu.Unlock()
			c.Close()
			return
		}
		t.accepted[c] = struct{}{}
		t.wg.Add(1)
		t.mu.Unlock()
		go t.accept(c)
	}
}

// accept runs the acceptor's side of the handshake and then the connection.
func (t *Transport) accept(c net.Conn) {
	defer t.wg.Done()
	p, err := t.acceptHandshake(c)
	t.mu.Lock()
	delete(t.accepted, c)
	t.mu.Unlock()
	if err != nil {
		t.log.Warn("peer handshake refused", "remote", c.RemoteAddr().String(), "err", err)
		c.Close()
		return
	}
	t.run(p, c)
}

func (t *Transport) acceptHandshake(c net.Conn) (*peer, error) {
	c.SetDeadline(time.Now().Add(handshakeTimeout))
	h, err := readHandshake(c)
	if err != nil {
		return nil, err
	}
	p, ok := t.peers[h.from]
	switch {
	case !ok:
		return nil, fmt.Errorf("server %d is not in this server's configuration", h.from)
	case h.to != t.cfg.ID:
		return nil, fmt.Errorf("server %d believes it dialed server %d, this is %d (check the server.N lines)", h.from, h.to, t.cfg.ID)
	case h.from < t.cfg.ID:
		return nil, fmt.Errorf("server %d dialed server %d: only the higher id dials", h.from, t.cfg.ID)
	}
	reply := handshake{version: protocolVersion, from: t.cfg.ID, to: h.from}
	if _, err := c.Write(reply.append(nil)); err != nil {
		return nil, err
	}
	c.SetDeadline(time.Time{})
	return p, nil
}

// dialLoop keeps a connection to p (a lower id) open until the transport closes.
func (t *Transport) dialLoop(p *peer) {
	defer t.wg.Done()
	backoff := t.cfg.BackoffMin
	for {
		c, err := t.dial(p)
		if err == nil {
			backoff = t.cfg.BackoffMin
			t.run(p, c) // returns when the connection breaks
		} else {
			t.log.Debug("dial failed", "peer", uint64(p.id), "addr", p.addr, "err", err, "retry", backoff)
		}
		// Jitter spreads the redials of servers that lost the same peer at the same moment.
		wait := backoff/2 + rand.N(backoff/2+1)
		select {
		case <-t.done:
			return
		case <-time.After(wait):
		}
		if err != nil {
			backoff = min(2*backoff, t.cfg.BackoffMax)
		}
	}
}

func (t *Transport) dial(p *peer) (net.Conn, error) {
	d := net.Dialer{Timeout: dialTimeout}
	c, err := d.Dial("tcp", p.addr)
	if err != nil {
		return nil, err
	}
	c.SetDeadline(time.Now().Add(handshakeTimeout))
	hello := handshake{version: protocolVersion, from: t.cfg.ID, to: p.id}
	if _, err := c.Write(hello.append(nil)); err != nil {
		c.Close()
		return nil, err
	}
	h, err := readHandshake(c)
	if err == nil && (h.from != p.id || h.to != t.cfg.ID) {
		err = fmt.Errorf("%s answered as server %d (for %d), want server %d", p.addr, h.from, h.to, p.id)
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	c.SetDeadline(time.Time{})
	return c, nil
}

// run makes c the connection of p, replacing any older one, and serves it until it breaks
// or the transport closes.
func (t *Transport) run(p *peer, nc net.Conn) {
	c := &conn{c: nc, peer: p, done: make(chan struct{})}
	p.mu.Lock()
	select {
	case <-t.done:
		p.mu.Unlock()
		nc.Close()
		return
	default:
	}
	if p.conn != nil {
		p.conn.close() // its writer takes no message from the queue once it is not current
	}
	p.conn = c
	p.stats.Connects++
	p.mu.Unlock()
	t.log.Info("peer connected", "peer", uint64(p.id), "remote", nc.RemoteAddr().String())

	var writer sync.WaitGroup
	writer.Add(1)
	go func() {
		defer writer.Done()
		t.writeLoop(c)
	}()
	err := t.readLoop(c)
	c.close()
	writer.Wait()

	p.mu.Lock()
	if p.conn == c {
		p.conn = nil
	}
	p.mu.Unlock()
	select {
	case <-t.done:
	default:
		if errors.Is(err, errBadFrame) {
			t.log.Warn("peer connection closed: bad frame", "peer", uint64(p.id), "err", err)
		} else {
			t.log.Info("peer disconnected", "peer", uint64(p.id), "err", err)
		}
	}
}

func (t *Transport) readLoop(c *conn) error {
	r := bufio.NewReaderSize(c.c, 64<<10)
	for {
		m, err := readFrame(r, t.cfg.FrameBytesMax)
		if err != nil {
			return err
		}
		if m.From != c.peer.id || m.To != t.cfg.ID {
			return fmt.Errorf("%w: message from %d to %d on the connection of server %d", errBadFrame, m.From, m.To, c.peer.id)
		}
		select {
		case t.recv <- m:
		case <-c.done:
			return errors.New("connection replaced or closed")
		case <-t.done:
			return nil
		}
		c.peer.mu.Lock()
		c.peer.stats.Received++
		c.peer.mu.Unlock()
	}
}

// writeLoop sends p's queued messages on c, one flush per batch taken from the queue. It
// looks at the queue before waiting: messages queued while p had no connection (and whose
// wake-up an earlier writer consumed) leave as soon as the connection is up.
func (t *Transport) writeLoop(c *conn) {
	p := c.peer
	w := bufio.NewWriterSize(progressWriter{c.c}, 64<<10)
	var frame []byte
	for {
		p.mu.Lock()
		if p.conn != c { // replaced: the queue belongs to the newer connection's writer
			p.mu.Unlock()
			return
		}
		batch := p.queue
		p.queue = nil
		p.mu.Unlock()
		if len(batch) == 0 {
			select {
			case <-c.done:
				return
			case <-p.wake:
				continue
			}
		}
		for _, m := range batch {
			frame = appendFrame(frame[:0], m)
			if _, err := w.Write(frame); err != nil {
				c.close()
				return
			}
		}
		if err := w.Flush(); err != nil {
			c.close()
			return
		}
		p.mu.Lock()
		p.stats.Sent += uint64(len(batch))
		p.mu.Unlock()
	}
}
