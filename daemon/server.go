// Package daemon runs zab/node, unchanged, on real sockets, files and time: the host side
// of zabd. One goroutine owns the node and feeds it inputs (ticks at its deadline, peer
// messages, client frames, durability reports); socket readers and writers, the peer
// transport, the group-commit log writer and the snapshot writer run around it. Nothing
// here decides anything about the protocol: every decision is the node's, tested in
// simulation; this package only carries out its outputs (zab/node/doc.go lists them).
//
// Flow control is the host's part, as in ZooKeeper: a connection's reader stops reading its
// socket while that connection has connRequestsInFlightMax requests unanswered, or the server
// serverRequestsInFlightMax, and during a graceful stop (clients.go waitForRoom); TCP then
// pushes back on the client, whose connection stays open. The node's own per-connection
// bound (RequestsPerConnectionMax) sits above it, and a leader whose proposal window is full
// makes forwarded requests wait (zab/node lead), so a deep pipeline is slowed, not closed.
package daemon

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zabkit/zabkit/daemon/config"
	"github.com/zabkit/zabkit/daemon/logwriter"
	"github.com/zabkit/zabkit/daemon/peer"
	"github.com/zabkit/zabkit/zab"
	"github.com/zabkit/zabkit/zab/node"
	"github.com/zabkit/zabkit/zab/storage"
)

// Options start a Server.
type Options struct {
	Config config.Config
	// ClientListener and PeerListener, when set, are used instead of listening on the
	// configured addresses (tests bind port 0 first). The server closes them.
	ClientListener net.Listener
	PeerListener   net.Listener
	Logger         *slog.Logger
	// Committed, when set, is called on the node goroutine with every txn the member
	// applies, for traces and checkers (the integration tests record the committed order
	// with it). It must not block.
	Committed func(node.Committed)

	// purgeEvery, when set, replaces the autopurge period purgeIntervalHours gives (tests).
	purgeEvery time.Duration
}

const (
	inputsQueueMax       = 4096             // client inputs waiting for the node goroutine
	connQueueBytesMax    = 64 << 20         // unsent bytes one client may hold before it is dropped
	shutdownDrainMax     = 3 * time.Second  // how long Close waits for in-flight work
	queryWaitMax         = 5 * time.Second  // how long a 4lw or a scrape waits for the node
	fourLetterReadMax    = 10 * time.Second // a 4lw connection must send its word by then
	pendingPersistsMax   = 1 << 20          // persists waiting to be durable (the writer bounds them first)
	purgeCheckMinimumDur = time.Hour
)

// Server is one running ensemble member.
type Server struct {
	cfg    config.Config
	log    *slog.Logger
	node   *node.Node
	store  *storage.Store
	writer *logwriter.Writer
	trans  *peer.Transport // nil when standalone
	ln     net.Listener
	start  time.Time

	inputs  chan node.Input
	queries chan func()
	stop    chan struct{} // closed by Close or Kill: the loop returns
	done    chan struct{} // closed when the loop and every goroutine it owns are gone
	wg      sync.WaitGroup

	// Owned by the node goroutine.
	nowMs    zab.Time
	pending  []pendingPersist
	lastRole zab.StateChanged
	onCommit func(node.Committed)

	purgeEvery time.Duration // 0: no autopurge

	// Client connections, shared with the accept loop and the 4lw code.
	connMu     sync.Mutex
	conns      map[node.ConnID]*clientConn
	perIP      map[string]int
	nextConn   atomic.Uint64
	accepting  atomic.Bool
	metrics    *metrics
	stopOnce   sync.Once
	errMu      sync.Mutex
	err        error
	killed     atomic.Bool
	closeStart atomic.Bool

	// Read flow control (clients.go waitForRoom): requests read from every client and not
	// yet answered; readers wait on flowCond while it or their own count is at its bound.
	requestsInFlight atomic.Int64
	flowMu           sync.Mutex
	flowCond         *sync.Cond

	closeLog logLimiter // rate limit of connection-close log lines
}

// pendingPersist is a Persist written but not yet durable: its messages wait for it.
type pendingPersist struct {
	id    uint64
	after []node.Message
}

// Start recovers the member from its data directories, starts the node and opens the
// client and peer listeners.
func Start(opts Options) (*Server, error) {
	cfg := opts.Config
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	log = log.With("server", cfg.ServerID)
	s := &Server{
		cfg: cfg, log: log, start: time.Now(),
		inputs:   make(chan node.Input, inputsQueueMax),
		queries:  make(chan func()),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
		conns:    map[node.ConnID]*clientConn{},
		perIP:    map[string]int{},
		onCommit: opts.Committed,
	}
	if cfg.PurgeIntervalHours > 0 {
		s.purgeEvery = max(time.Duration(cfg.PurgeIntervalHours)*time.Hour, purgeCheckMinimumDur)
		if opts.purgeEvery > 0 {
			s.purgeEvery = opts.purgeEvery
		}
	}
	s.flowCond = sync.NewCond(&s.flowMu)
	cleanup := func() {
		for _, l := range []net.Listener{opts.ClientListener, opts.PeerListener} {
			if l != nil {
				l.Close()
			}
		}
	}
	store, dataFS, rec, err := recoverStore(cfg, log)
	if err != nil {
		cleanup()
		return nil, err
	}
	nc := nodeConfig(cfg)
	if err := refuseBugs(nc); err != nil {
		store.Close()
		cleanup()
		return nil, err
	}
	n, err := node.New(nc, rec)
	if err != nil {
		store.Close()
		cleanup()
		return nil, fmt.Errorf("daemon: the node refuses the recovered state: %w", err)
	}
	s.node, s.store = n, store
	s.nowMs = zab.Time(time.Now().UnixMilli())
	s.writer = logwriter.New(store, logwriter.Config{DataFS: dataFS, Logger: log})
	s.metrics = newMetrics(s)

	if !cfg.Standalone() {
		if err := s.startPeers(opts.PeerListener); err != nil {
			s.writer.Close()
			store.Close()
			cleanup()
			return nil, err
		}
	}
	ln := opts.ClientListener
	if ln == nil {
		if ln, err = net.Listen("tcp", cfg.ClientAddr); err != nil {
			s.closeBackground()
			return nil, fmt.Errorf("daemon: client listener: %w", err)
		}
	}
	s.ln = ln
	if err := s.metrics.serve(cfg.MetricsAddr); err != nil {
		ln.Close()
		s.closeBackground()
		return nil, err
	}
	s.accepting.Store(true)
	s.wg.Add(2)
	go s.acceptLoop()
	go s.purgeLoop()
	go s.loop()
	log.Info("zabd serving", "client", ln.Addr().String(), "voters", cfg.Voters(), "observers", cfg.Observers(),
		"dataDir", cfg.DataDir, "dataLogDir", cfg.DataLogDir)
	return s, nil
}

// startPeers opens the peer transport: one TCP connection per pair of servers.
func (s *Server) startPeers(ln net.Listener) error {
	self, ok := s.cfg.Self()
	if !ok {
		return fmt.Errorf("daemon: server id %d has no server.%d line", s.cfg.ServerID, s.cfg.ServerID)
	}
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", self.PeerAddr()); err != nil {
			return fmt.Errorf("daemon: peer listener: %w", err)
		}
	}
	peers := map[zab.PeerID]string{}
	for _, sv := range s.cfg.Servers {
		if sv.ID != s.cfg.ServerID {
			peers[zab.PeerID(sv.ID)] = sv.PeerAddr()
		}
	}
	t, err := peer.New(peer.Config{ID: zab.PeerID(s.cfg.ServerID), Peers: peers, Logger: s.log}, ln)
	if err != nil {
		ln.Close()
		return err
	}
	s.trans = t
	return nil
}

// ClientAddr is the address clients connect to.
func (s *Server) ClientAddr() net.Addr { return s.ln.Addr() }

// MetricsAddr is the address of the metrics endpoint, or nil when it is off.
func (s *Server) MetricsAddr() net.Addr { return s.metrics.addr() }

// Done is closed once the server has stopped, by Close, Kill or a storage failure.
func (s *Server) Done() <-chan struct{} { return s.done }

// Err is the failure that stopped the server, or nil.
func (s *Server) Err() error {
	s.errMu.Lock()
	defer s.errMu.Unlock()
	return s.err
}

// Close shuts the server down gracefully (SIGTERM): it stops accepting clients, lets the
// node finish what is in flight for a bounded time (persists become durable, their replies
// are written), then closes every connection, syncs the log and releases the files.
func (s *Server) Close() error {
	if s.closeStart.CompareAndSwap(false, true) {
		s.accepting.Store(false)
		s.ln.Close()
		s.drain()
		s.halt(nil)
	}
	<-s.done
	return s.Err()
}

// Kill stops the server as abruptly as an in-process test can: sockets are closed at
// once, nothing in flight is answered, and persists queued for the log writer are dropped
// unwritten (Writer.Abandon), as a crash loses them. Every persist the node was told is
// durable is on disk already.
func (s *Server) Kill() {
	s.killed.Store(true)
	s.accepting.Store(false)
	s.ln.Close()
	s.halt(nil)
	<-s.done
}

// drain waits, bounded, until no persist is pending, every request read is answered and
// every answer is handed to its socket: in-flight requests are answered before the
// connections close.
func (s *Server) drain() {
	deadline := time.Now().Add(shutdownDrainMax)
	for time.Now().Before(deadline) {
		idle := false
		if !s.query(func() {
			idle = len(s.pending) == 0 && len(s.inputs) == 0 && s.clientsIdle()
		}) {
			return
		}
		if idle {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	s.log.Warn("shutdown: in-flight work not finished in time", "wait", shutdownDrainMax)
}

// halt stops the node goroutine (once) and waits for it to release everything.
func (s *Server) halt(err error) {
	s.stopOnce.Do(func() {
		if err != nil {
			s.errMu.Lock()
			s.err = err
			s.errMu.Unlock()
		}
		close(s.stop)
		s.wakeReaders()
	})
}

// query runs f on the node goroutine and waits for it; false when the server stopped or
// the node goroutine did not get to it in time.
func (s *Server) query(f func()) bool {
	ran := make(chan struct{})
	select {
	case s.queries <- func() { f(); close(ran) }:
	case <-s.stop:
		return false
	case <-time.After(queryWaitMax):
		return false
	}
	select {
	case <-ran:
		return true
	case <-s.stop:
		return false
	}
}

// loop is the node goroutine.
func (s *Server) loop() {
	defer s.shutdown()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var recv <-chan node.Message
	if s.trans != nil {
		recv = s.trans.Receive()
	}
	for {
		wait := time.Until(time.UnixMilli(int64(s.node.NextDeadline())))
		timer.Reset(max(wait, 0))
		select {
		case <-timer.C:
			s.handleQueued(recv)
			s.handle(node.Tick{})
		case m := <-recv:
			s.handle(node.PeerMessage{Message: m})
		case in := <-s.inputs:
			s.handle(in)
		case id := <-s.writer.Durable():
			s.durable(id)
		case <-s.writer.Failed():
			s.halt(fmt.Errorf("daemon: storage failed, the node stops: %w", s.writer.Err()))
			return
		case q := <-s.queries:
			q()
		case <-s.stop:
			return
		}
	}
}

// handleQueued handles the client inputs and peer messages that are already waiting, before a
// tick: they arrived before it, and a loop that fell behind must not let the tick's time pass
// judge them late — a session whose pings (or a follower's touches) were on time would
// expire. ZooKeeper touches a session as soon as its network thread reads a packet. Bounded,
// so a flood cannot hold the tick back indefinitely.
func (s *Server) handleQueued(recv <-chan node.Message) {
	for range queuedBeforeTickMax {
		select {
		case in := <-s.inputs:
			s.handle(in)
		case m := <-recv:
			s.handle(node.PeerMessage{Message: m})
		default:
			return
		}
	}
}

// queuedBeforeTickMax bounds handleQueued.
const queuedBeforeTickMax = 4096

// shutdown releases what the node goroutine owned, in dependency order: no more client
// or peer traffic, then the log writer's last sync, then the files.
func (s *Server) shutdown() {
	s.ln.Close()
	s.connMu.Lock()
	conns := make([]*clientConn, 0, len(s.conns))
	for _, c := range s.conns {
		conns = append(conns, c)
	}
	s.connMu.Unlock()
	for _, c := range conns {
		c.abort()
	}
	s.closeBackground()
	s.wg.Wait()
	s.log.Info("zabd stopped", "lastApplied", fmt.Sprintf("%#x", uint64(s.node.LastApplied())), "err", s.Err())
	close(s.done)
}

// closeBackground closes the transport, the writer (which syncs what is queued) and the
// store.
func (s *Server) closeBackground() {
	if s.trans != nil {
		s.trans.Close()
	}
	s.metrics.close()
	if s.killed.Load() {
		// A crash: persists still queued are lost, never written (Writer.Abandon).
		s.writer.Abandon()
	} else if err := s.writer.Close(); err != nil && !errors.Is(err, logwriter.ErrClosed) {
		s.log.Error("log writer", "err", err)
	}
	if err := s.store.Close(); err != nil {
		s.log.Error("closing the store", "err", err)
	}
}

// now is the node's clock: Unix milliseconds, never going backwards even if the wall clock
// does (znode ctime/mtime and TTLs come from it).
func (s *Server) now() zab.Time {
	if t := zab.Time(time.Now().UnixMilli()); t > s.nowMs {
		s.nowMs = t
	}
	return s.nowMs
}

// handle feeds one input and carries out the outputs, in order.
func (s *Server) handle(in node.Input) {
	for _, out := range s.node.Handle(s.now(), in) {
		s.execute(out)
	}
}

func (s *Server) execute(out node.Output) {
	switch o := out.(type) {
	case node.SendPeer:
		s.sendPeer(o.Message)
	case node.Persist:
		s.persist(o)
	case node.ClientSend:
		s.clientSend(o.Conn, o.Frame)
	case node.CloseClient:
		s.closeClient(o.Conn, o.Reason)
	case node.SaveSnapshot:
		// The View is frozen: the writer's snapshot goroutine serializes it while this
		// goroutine goes on feeding the node (tree.Freeze, copy-on-write).
		if !s.writer.SaveSnapshotOf(uint64(o.Zxid), o.View.Snapshot) {
			s.log.Warn("snapshot skipped: the previous one is still being written or adopted (or the log writer stopped)", "zxid", fmt.Sprintf("%#x", uint64(o.Zxid)))
		}
	case node.StateChanged:
		st := o.State
		s.lastRole = st
		s.log.Info("state changed", "role", st.Role.String(), "phase", st.Phase.String(), "epoch", st.Epoch,
			"leader", uint64(st.Leader), "reason", st.Reason)
		s.metrics.stateChanged(st)
	case node.Committed:
		s.metrics.committed.Inc()
		if s.onCommit != nil {
			s.onCommit(o)
		}
	default:
		panic(fmt.Sprintf("daemon: unknown node output %T", out))
	}
}

func (s *Server) sendPeer(m node.Message) {
	if s.trans == nil {
		panic(fmt.Sprintf("daemon: a standalone node sent a peer message: %v", m))
	}
	s.trans.Send(m)
}

// persist hands zab's write to the log writer; its messages wait until it is durable.
func (s *Server) persist(p node.Persist) {
	w := p.Write
	b := logwriter.Batch{
		ID: w.ID, Truncate: w.Truncate, TruncateAfter: uint64(w.TruncateAfter),
		SetAcceptedEpoch: w.SetAcceptedEpoch, AcceptedEpoch: uint32(w.AcceptedEpoch),
		SetCurrentEpoch: w.SetCurrentEpoch, CurrentEpoch: uint32(w.CurrentEpoch),
	}
	if w.Snapshot != nil {
		b.Snapshot = &storage.Snapshot{Zxid: uint64(w.Snapshot.Zxid), Data: w.Snapshot.Data}
	}
	if len(w.Entries) > 0 {
		b.Entries = make([]storage.Entry, len(w.Entries))
		for i, t := range w.Entries {
			b.Entries[i] = storage.Entry{Zxid: uint64(t.Zxid), Data: t.Data}
		}
	}
	if len(s.pending) >= pendingPersistsMax {
		panic(fmt.Sprintf("daemon: %d persists pending, the writer's queue bound was bypassed", len(s.pending)))
	}
	s.pending = append(s.pending, pendingPersist{id: w.ID, after: p.After})
	// Submit blocks while the writer's queue is full: the node slows down to the disk.
	if err := s.writer.Submit(b); err != nil {
		s.halt(fmt.Errorf("daemon: storage refused persist %d: %w", w.ID, err))
	}
}

// durable sends the held-back messages of every persist up to id, in order, then tells the
// node (a follower's ACK leaves only once its txn is on disk).
func (s *Server) durable(id uint64) {
	i := 0
	for ; i < len(s.pending) && s.pending[i].id <= id; i++ {
		for _, m := range s.pending[i].after {
			s.sendPeer(m)
		}
	}
	s.pending = s.pending[i:]
	s.handle(node.Persisted{ID: id})
}

// purgeLoop runs autopurge every purgeInterval hours (0 = never), as ZooKeeper's
// DatadirCleanupManager does. Unlike ZooKeeper, the store also keeps only snapRetainCount
// snapshots (at least 3) and the log they need each time it takes one (a periodic snapshot
// once adopted, or a SNAP), whatever purgeInterval says: storage's retention bounds the disk.
func (s *Server) purgeLoop() {
	defer s.wg.Done()
	if s.purgeEvery <= 0 {
		<-s.stop
		return
	}
	t := time.NewTicker(s.purgeEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			s.writer.Purge(max(s.cfg.SnapRetainCount, 3))
		case <-s.stop:
			return
		}
	}
}

// Status is a member's state as operators and tests see it.
type Status struct {
	Serving     bool
	Leading     bool
	Mode        string // srvr's Mode: standalone, leader, follower, observer, looking
	LastApplied zab.Zxid
}

// Status reads the node's state; the zero Status when the server has stopped.
func (s *Server) Status() Status {
	var st Status
	s.query(func() {
		st = Status{Serving: s.node.Serving(), Leading: s.node.Leading(), Mode: s.mode(), LastApplied: s.node.LastApplied()}
	})
	return st
}

// refuseBugs keeps the bug zoo and BUGGIFY out of production: the core's bug switches
// re-introduce real ZooKeeper bugs for the simulator to find, and BUGGIFY pushes the core into
// rare paths on purpose; a server must never run with either.
func refuseBugs(nc node.Config) error {
	if nc.AnyBugs() {
		return fmt.Errorf("daemon: refusing to start with the core's bug switches on: %s", strings.Join(nc.Bugs.Names(), ", "))
	}
	if nc.Buggified() {
		return fmt.Errorf("daemon: refusing to start with BUGGIFY hooks set (simulation only)")
	}
	return nil
}
