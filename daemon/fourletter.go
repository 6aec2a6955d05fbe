package daemon

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/zabkit/zabkit/zab"
	"github.com/zabkit/zabkit/zab/wire"
)

// Version is what srvr, stat, mntr and envi report. The form is ZooKeeper 3.8's
// ("<x.y.z>-<build id>, built on <yyyy-MM-dd HH:mm> UTC"): zkServer.sh, exporters and
// dashboards parse the x.y.z in front. The number is the release zabd answers like: Apache
// ZooKeeper 3.8.0 as Debian 12 ships it, the reference of the conformance tests.
const (
	Version   = "3.8.0-zabkit"
	BuiltOn   = "2026-11-01 00:00 UTC"
	notServed = "This ZooKeeper instance is not currently serving requests\n"
)

// fourLetterWords are the commands zabd answers (zk-protocol.md §11), in byte order (the
// configuration's whitelist is searched so); the other word of ZooKeeper's list, hash, is
// closed unanswered like an unknown word (Apache 3.8.0 answers nothing either, its digest log
// being empty).
var fourLetterWords = []string{"conf", "cons", "crst", "dirs", "dump", "envi", "gtmk", "isro", "mntr", "ruok", "srst", "srvr", "stat", "stmk", "wchc", "wchp", "wchs"}

func isFourLetterWord(w string) bool { return slices.Contains(fourLetterWords, w) }

// fourLetter answers a four-letter word on a connection that sent it instead of a
// handshake, then closes it (ZooKeeper's NIOServerCnxn.checkFourLetterWord). rest reads what
// the client sent after the word (stmk's mask).
func (c *clientConn) fourLetter(word string, rest io.Reader) {
	s := c.s
	defer c.abort()
	s.metrics.fourLetter.WithLabelValues(word).Inc()
	var out string
	switch {
	case !s.cfg.FourLetterWordEnabled(word):
		out = word + " is not executed because it is not in the whitelist.\n"
	case word == "stmk":
		c.nc.SetReadDeadline(time.Now().Add(traceMaskWaitMax))
		mask, ok := readTraceMask(rest)
		if !ok {
			return // Apache's getLong on fewer than 8 bytes throws: closed unanswered
		}
		out = stmk(mask)
	default:
		out = s.fourLetterOutput(word)
	}
	c.nc.SetWriteDeadline(time.Now().Add(queryWaitMax))
	c.nc.Write([]byte(out))
	c.sent.Add(1)
	// Half-close and drain what the client still sends (the "\n" of `echo ruok | nc`):
	// closing a socket with unread input sends a reset, which can destroy the answer
	// before the client has read it.
	if tc, ok := c.nc.(*net.TCPConn); ok {
		tc.CloseWrite()
		c.nc.SetReadDeadline(time.Now().Add(fourLetterDrainMax))
		io.Copy(io.Discard, io.LimitReader(c.nc, fourLetterDrainBytesMax))
	}
}

const (
	fourLetterDrainMax      = time.Second
	fourLetterDrainBytesMax = 4096
)

// view is what the 4lw read from the node goroutine, taken in one query.
type view struct {
	ok          bool
	serving     bool
	mode        string
	lastApplied zab.Zxid
	nodeCount   int
	watches     int
	sessions    int
	tracked     int
	outstanding int
	pending     int
	ephemerals  int
	dataBytes   int64
	leading     bool
}

func (s *Server) view() view {
	var v view
	v.ok = s.query(func() {
		st := s.node.Stats()
		v.serving = s.node.Serving()
		v.mode = s.mode()
		v.lastApplied = st.LastApplied
		// ZooKeeper's node count holds the root twice (its map keys "" and "/"); monitoring
		// compares it with ZooKeeper's, so zabd reports the same number.
		v.nodeCount = s.node.Tree().NodeCount() + 1
		v.ephemerals = s.node.Tree().EphemeralCount()
		v.dataBytes = s.node.Tree().ApproximateDataSize()
		v.leading = s.node.Leading()
		v.watches = st.Watches
		v.sessions = st.Sessions
		v.tracked = st.TrackedSessions
		v.outstanding = st.Outstanding
		v.pending = len(s.pending)
	})
	return v
}

// mode is srvr's Mode line (node goroutine).
func (s *Server) mode() string {
	switch {
	case s.cfg.Standalone() && len(s.cfg.Observers()) == 0:
		return "standalone"
	case s.node.Leading():
		return "leader"
	case s.node.Serving() && s.lastRole.Role == zab.Observing:
		return "observer"
	case s.node.Serving():
		return "follower"
	}
	return "looking"
}

func (s *Server) fourLetterOutput(word string) string {
	switch word {
	case "ruok":
		return "imok"
	case "envi":
		return s.envi()
	case "conf":
		return s.conf()
	case "gtmk":
		return gtmk()
	}
	v := s.view()
	if !v.ok {
		return ""
	}
	switch word {
	case "isro":
		if !v.serving {
			return "null"
		}
		return "rw"
	}
	if !v.serving {
		return notServed
	}
	switch word {
	case "srvr":
		return s.srvr(v, false)
	case "stat":
		return s.srvr(v, true)
	case "cons":
		var b strings.Builder
		for _, c := range s.connsSorted() {
			b.WriteString(c.describe(true))
		}
		b.WriteByte('\n')
		return b.String()
	case "wchs", "wchc", "wchp":
		t, ok := s.dataWatchTable()
		if !ok {
			return ""
		}
		switch word {
		case "wchs":
			return wchs(t)
		case "wchc":
			return wchc(t)
		}
		return wchp(t)
	case "mntr":
		return s.mntr(v)
	case "crst":
		return s.resetConnStats()
	case "srst":
		return s.resetServerStats()
	case "dirs":
		return s.dirs()
	case "dump":
		out, _ := s.dump()
		return out
	}
	return ""
}

func (s *Server) connsSorted() []*clientConn {
	s.connMu.Lock()
	cs := make([]*clientConn, 0, len(s.conns))
	for _, c := range s.conns {
		cs = append(cs, c)
	}
	s.connMu.Unlock()
	slices.SortFunc(cs, func(a, b *clientConn) int { return int(a.id) - int(b.id) })
	return cs
}

// srvr is srvr's output, and stat's with the client list.
func (s *Server) srvr(v view, clients bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Zookeeper version: %s, built on %s\n", Version, BuiltOn)
	if clients {
		b.WriteString("Clients:\n")
		for _, c := range s.connsSorted() {
			b.WriteString(c.describe(false))
		}
		b.WriteByte('\n')
	}
	lat := s.metrics.latencySummary()
	fmt.Fprintf(&b, "Latency min/avg/max: %d/%s/%d\n", lat.minMs(), javaDouble(lat.avgMs()), lat.maxMs())
	fmt.Fprintf(&b, "Received: %d\n", s.received())
	fmt.Fprintf(&b, "Sent: %d\n", s.sent())
	fmt.Fprintf(&b, "Connections: %d\n", len(s.connsSorted()))
	fmt.Fprintf(&b, "Outstanding: %d\n", v.outstanding)
	fmt.Fprintf(&b, "Zxid: %s\n", hexZxid(v.lastApplied))
	fmt.Fprintf(&b, "Mode: %s\n", v.mode)
	fmt.Fprintf(&b, "Node count: %d\n", v.nodeCount)
	return b.String()
}

func (s *Server) received() uint64 { return s.metrics.packetsReceived.Load() }

func (s *Server) sent() uint64 { return s.metrics.packetsSent.Load() }

// describe is one connection's line in stat (brief) and cons (full).
func (c *clientConn) describe(full bool) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, " /%s[1](queued=%d,recved=%d,sent=%d", c.remote, len(c.inflight), c.received.Load(), c.sent.Load())
	if full && c.handshaken && c.sessionID != 0 {
		fmt.Fprintf(&b, ",sid=0x%x,lop=%s,est=%d,to=%d", c.sessionID, opTag(c.lastOp), c.est.UnixMilli(), c.timeoutMs)
		if c.hasCxid {
			fmt.Fprintf(&b, ",lcxid=0x%x", uint32(c.lastCxid))
		}
		lresp := int64(0) // no reply yet, or crst: ZooKeeper's lastResponseTime starts at 0
		if !c.lastResp.IsZero() {
			lresp = c.lastResp.UnixMilli()
		}
		fmt.Fprintf(&b, ",lzxid=0x%x,lresp=%d,llat=%d,minlat=%d,avglat=%d,maxlat=%d",
			uint64(c.lastZxid), lresp, c.lastLatency.Milliseconds(), c.lat.minMs(), int64(c.lat.avgMs()), c.lat.maxMs())
	}
	b.WriteString(")\n")
	return b.String()
}

// opTag is cons's short name of an opcode (ZooKeeper's Request.op2String).
func opTag(op wire.OpCode) string {
	switch op {
	case wire.OpPing:
		return "PING"
	case wire.OpCreateSession:
		return "SESS"
	case wire.OpCreate, wire.OpCreate2, wire.OpCreateContainer, wire.OpCreateTTL:
		return "CREA"
	case wire.OpDelete, wire.OpDeleteContainer:
		return "DELE"
	case wire.OpSetData:
		return "SETD"
	case wire.OpSetACL:
		return "SETA"
	case wire.OpGetData:
		return "GETD"
	case wire.OpGetChildren, wire.OpGetChildren2:
		return "GETC"
	case wire.OpGetACL:
		return "GETA"
	case wire.OpExists:
		return "EXIS"
	case wire.OpSync:
		return "SYNC"
	case wire.OpMulti:
		return "MULT"
	case wire.OpMultiRead:
		return "MLTR"
	case wire.OpCheck:
		return "CHEC"
	case wire.OpSetWatches:
		return "SETW"
	case wire.OpSetWatches2:
		return "STW2"
	case wire.OpAddWatch:
		return "ADDW"
	case wire.OpCheckWatches:
		return "CHKW"
	case wire.OpRemoveWatches:
		return "REMW"
	case wire.OpWhoAmI:
		return "HOMI"
	case wire.OpGetEphemerals:
		return "GETE"
	case wire.OpGetAllChildrenNumber:
		return "GETACN"
	case wire.OpCloseSession:
		return "CLOS"
	}
	return "NA"
}

// javaDouble prints a float as Java's Double.toString would for these values: always a
// decimal point, at most 4 decimals (ServerStats rounds avg latency so).
func javaDouble(f float64) string {
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if r := strconv.FormatFloat(f, 'f', 4, 64); len(s) > len(r) {
		s = strings.TrimRight(strings.TrimRight(r, "0"), ".")
	}
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

func (s *Server) mntr(v view) string {
	lat := s.metrics.latencySummary()
	var b strings.Builder
	line := func(k string, val any) { fmt.Fprintf(&b, "zk_%s\t%v\n", k, val) }
	line("version", Version+", built on "+BuiltOn)
	line("server_state", v.mode)
	line("avg_latency", javaDouble(lat.avgMs()))
	line("max_latency", lat.maxMs())
	line("min_latency", lat.minMs())
	line("packets_received", s.received())
	line("packets_sent", s.sent())
	line("num_alive_connections", len(s.connsSorted()))
	line("outstanding_requests", v.outstanding)
	line("uptime", time.Since(s.start).Milliseconds())
	line("znode_count", v.nodeCount)
	line("watch_count", v.watches)
	line("ephemerals_count", v.ephemerals)
	line("approximate_data_size", v.dataBytes)
	line("global_sessions", v.tracked)
	line("local_sessions", v.sessions)
	// zabd's own (Apache 3.8.0 has no such keys; tools ignore keys they do not know).
	line("last_zxid", hexZxid(v.lastApplied))
	line("pending_persists", v.pending)
	line("fsync_count", s.writer.Syncs())
	line("snapshot_count", s.writer.Snapshots())
	if n, ok := openFDs(); ok {
		line("open_file_descriptor_count", n)
	}
	if n, ok := maxFDs(); ok {
		line("max_file_descriptor_count", n)
	}
	if !s.cfg.Standalone() {
		line("quorum_size", len(s.cfg.Voters()))
	}
	if v.leading && s.trans != nil {
		// ZooKeeper's leader reports its learners and the synced ones among them. zab does
		// not export per-learner sync state, so both count the members with a live peer
		// connection to this leader (a connected learner of an established leader has
		// synced or is syncing).
		voters, observers := s.connectedPeers()
		line("learners", voters+observers)
		line("synced_followers", voters)
		line("synced_non_voting_followers", 0)
		line("synced_observers", observers)
		line("pending_syncs", 0)
	}
	return b.String()
}

// connectedPeers counts the other members with a live peer connection, voters and
// observers apart.
func (s *Server) connectedPeers() (voters, observers int) {
	for _, srv := range s.cfg.Servers {
		if srv.ID == s.cfg.ServerID || !s.trans.Stats(zab.PeerID(srv.ID)).Connected {
			continue
		}
		if srv.Observer {
			observers++
		} else {
			voters++
		}
	}
	return voters, observers
}

// maxFDs is the process's open-file limit (ZooKeeper's OSMXBean.getMaxFileDescriptorCount).
func maxFDs() (uint64, bool) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, false
	}
	return lim.Cur, true
}

func openFDs() (int, bool) {
	es, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return 0, false
	}
	return len(es), true
}

// conf prints the configuration as ZooKeeper's conf does.
func (s *Server) conf() string {
	c := s.cfg
	var b strings.Builder
	line := func(k string, v any) { fmt.Fprintf(&b, "%s=%v\n", k, v) }
	_, port, _ := strings.Cut(s.ln.Addr().String(), "]:")
	if port == "" {
		port = s.ln.Addr().String()[strings.LastIndexByte(s.ln.Addr().String(), ':')+1:]
	}
	abs := func(p string) string {
		if a, err := filepath.Abs(p); err == nil {
			return a
		}
		return p
	}
	line("clientPort", port)
	line("secureClientPort", -1)
	line("dataDir", abs(c.DataDir))
	line("dataDirSize", dirSize(c.DataDir))
	line("dataLogDir", abs(c.DataLogDir))
	line("dataLogSize", dirSize(c.DataLogDir))
	line("tickTime", c.TickMillis)
	line("maxClientCnxns", c.MaxClientCnxns)
	line("minSessionTimeout", c.MinSessionTimeoutMillis)
	line("maxSessionTimeout", c.MaxSessionTimeoutMillis)
	line("clientPortListenBacklog", -1)
	if c.Standalone() {
		line("serverId", 0) // ZooKeeperServerMain has no myid: ZooKeeper prints 0
	} else {
		line("serverId", c.ServerID)
	}
	if !c.Standalone() {
		line("initLimit", c.InitLimitTicks)
		line("syncLimit", c.SyncLimitTicks)
		line("electionAlg", 3)
		if self, ok := c.Self(); ok {
			line("electionPort", self.ElectionPort)
			line("quorumPort", self.PeerPort)
			if self.Observer {
				line("peerType", 1)
			} else {
				line("peerType", 0)
			}
		}
		b.WriteString("membership: \n")
		b.Write(dynamicConfig(c))
		b.WriteByte('\n')
	}
	return b.String()
}

func dirSize(dir string) int64 {
	es, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	var n int64
	for _, e := range es {
		if info, err := e.Info(); err == nil && info.Mode().IsRegular() {
			n += info.Size()
		}
	}
	return n
}

func (s *Server) envi() string {
	host, _ := os.Hostname()
	wd, _ := os.Getwd()
	home, _ := os.UserHomeDir()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	var b strings.Builder
	b.WriteString("Environment:\n")
	line := func(k string, v any) { fmt.Fprintf(&b, "%s=%v\n", k, v) }
	line("zookeeper.version", Version+", built on "+BuiltOn)
	line("host.name", host)
	line("java.version", runtime.Version())
	line("java.vendor", "zabkit (Go)")
	line("java.home", runtime.GOROOT())
	line("java.class.path", "")
	line("java.library.path", "")
	line("java.io.tmpdir", os.TempDir())
	line("java.compiler", "<NA>")
	line("os.name", runtime.GOOS)
	line("os.arch", runtime.GOARCH)
	line("os.version", "")
	line("user.name", os.Getenv("USER"))
	line("user.home", home)
	line("user.dir", wd)
	line("os.memory.free", fmt.Sprintf("%dMB", (ms.HeapIdle)>>20))
	line("os.memory.max", fmt.Sprintf("%dMB", ms.Sys>>20))
	line("os.memory.total", fmt.Sprintf("%dMB", ms.HeapSys>>20))
	return b.String()
}
