package daemon

import (
	"encoding/binary"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// The four-letter words of this file are the administrative ones of ZooKeeper's list
// (FourLetterCommands): dump, dirs, crst, srst, gtmk and stmk. Their formats are Apache ZooKeeper
// 3.8.0's, checked against it by conformance's TestFourLetterWordsAgree.

// defaultTraceMask is ZooKeeper's default ZooTrace text trace mask: client requests (2),
// server packets (16), sessions (32) and warnings (256).
const defaultTraceMask = 306

// traceMask is what gtmk prints and stmk sets. Like ZooTrace's static mask it is one per
// process, not per server. zabd writes no ZooTrace trace, so the mask selects nothing; it is
// kept because tools set it and read it back.
var traceMask atomic.Int64

func init() { traceMask.Store(defaultTraceMask) }

// traceMaskWaitMax is how long stmk waits for its eight mask bytes. Apache 3.8.0 makes one
// non-blocking read of what has already arrived; the short wait also takes a mask that
// arrives in a second segment.
const traceMaskWaitMax = 200 * time.Millisecond

// sessionlessConnTimeoutMs is how long ZooKeeper's NIO factory lets a connection without a
// session live (zookeeper.nio.sessionlessCnxnTimeout, 10 s): dump lists it so.
const sessionlessConnTimeoutMs = 10000

// javaDateLayout is java.util.Date.toString's "EEE MMM dd HH:mm:ss zzz yyyy", which dump's
// expiry lines print.
const javaDateLayout = "Mon Jan 02 15:04:05 MST 2006"

// gtmk prints the trace mask with no line end, as GetTraceMaskCommand does.
func gtmk() string { return strconv.FormatInt(traceMask.Load(), 10) }

// readTraceMask reads stmk's mask: the eight bytes after the word, a big-endian long
// (NIOServerCnxn.checkFourLetterWord's incomingBuffer.getLong). false if fewer arrive.
func readTraceMask(r io.Reader) (int64, bool) {
	var b [8]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return 0, false
	}
	return int64(binary.BigEndian.Uint64(b[:])), true
}

// stmk sets the trace mask and prints it, signed and with no line end, as
// SetTraceMaskCommand does.
func stmk(mask int64) string {
	traceMask.Store(mask)
	return strconv.FormatInt(mask, 10)
}

// resetConnStats is crst: every connection's counters and latencies start again, and cons
// prints them as a fresh connection's (ServerCnxn.resetStats: lop NA, no lcxid, lzxid -1,
// lresp 0).
func (s *Server) resetConnStats() string {
	for _, c := range s.connsSorted() {
		c.mu.Lock()
		c.received.Store(0)
		c.sent.Store(0)
		c.lastOp = 0
		c.hasCxid = false
		c.lastZxid = -1
		c.lastLatency = 0
		c.lastResp = time.Time{}
		c.lat = latency{}
		c.mu.Unlock()
	}
	return "Connection stats reset.\n"
}

// resetServerStats is srst: the server's latency summary and packet counters start again
// (ServerStats.reset).
func (s *Server) resetServerStats() string {
	s.metrics.latMu.Lock()
	s.metrics.lat = latency{}
	s.metrics.latMu.Unlock()
	s.metrics.packetsReceived.Store(0)
	s.metrics.packetsSent.Store(0)
	return "Server stats reset.\n"
}

// dirs prints the bytes held in the data and log directories (DirsCommand).
func (s *Server) dirs() string {
	return fmt.Sprintf("datadir_size: %d\nlogdir_size: %d\n", dirSize(s.cfg.DataDir), dirSize(s.cfg.DataLogDir))
}

// dumpSession is one live session as dump lists it.
type dumpSession struct {
	id         int64
	timeoutMs  int32
	ephemerals []string
}

// dump prints the session tracker, the ephemerals of each session and the connections, in
// the layout of ZooKeeper's DumpCommand (a follower's or observer's tracker as a list of the
// global sessions, a standalone server's or leader's as expiry sets). Expiry times are estimates:
// the tracker's deadlines live in zab/node, so a session with a connection here expires a
// timeout after that connection's last reply, one without a connection here a timeout from
// now, rounded up to the next tick as ZooKeeper's ExpiryQueue does. Paths are in byte order
// (ZooKeeper prints its HashSet's order); conformance compares them as sets.
func (s *Server) dump() (string, bool) {
	var sessions []dumpSession
	learner := false
	ok := s.query(func() {
		mode := s.mode()
		learner = mode == "follower" || mode == "observer"
		t := s.node.Tree()
		for _, id := range t.Sessions() {
			timeoutMs, _ := t.SessionTimeoutMs(id)
			sessions = append(sessions, dumpSession{id: id, timeoutMs: timeoutMs, ephemerals: t.GetEphemerals(id, "/").Ephemerals})
		}
	})
	if !ok {
		return "", false
	}
	now := time.Now()
	conns := s.connsSorted()
	lastActive := map[int64]time.Time{}
	type connLine struct {
		text     string
		expireMs int64
	}
	var connLines []connLine
	for _, c := range conns {
		c.mu.Lock()
		sid, timeoutMs, active := c.sessionID, int64(c.timeoutMs), c.est
		if c.lastResp.After(active) {
			active = c.lastResp
		}
		c.mu.Unlock()
		if sid != 0 {
			lastActive[sid] = active
		} else {
			timeoutMs = sessionlessConnTimeoutMs
		}
		connLines = append(connLines, connLine{
			text:     fmt.Sprintf("ip: /%s sessionId: 0x%x", c.remote, uint64(sid)),
			expireMs: s.roundToTick(active.UnixMilli() + timeoutMs),
		})
	}

	var b strings.Builder
	b.WriteString("SessionTracker dump:\n")
	if learner {
		// A follower's or observer's LearnerSessionTracker lists the global sessions with
		// their timeouts (local sessions are off); the leader keeps the expiry sets.
		fmt.Fprintf(&b, "Global Sessions(%d):\n", len(sessions))
		for _, ss := range sessions {
			fmt.Fprintf(&b, "0x%x\t%dms\n", uint64(ss.id), ss.timeoutMs)
		}
	} else {
		b.WriteString("Session ")
		sessionSets := map[int64][]string{}
		for _, ss := range sessions {
			active, ok := lastActive[ss.id]
			if !ok {
				active = now
			}
			at := s.roundToTick(active.UnixMilli() + int64(ss.timeoutMs))
			sessionSets[at] = append(sessionSets[at], fmt.Sprintf("0x%x", uint64(ss.id)))
		}
		writeExpirySets(&b, sessionSets, len(sessions))
	}

	withEphemerals := 0
	for _, ss := range sessions {
		if len(ss.ephemerals) > 0 {
			withEphemerals++
		}
	}
	fmt.Fprintf(&b, "ephemeral nodes dump:\nSessions with Ephemerals (%d):\n", withEphemerals)
	for _, ss := range sessions {
		if len(ss.ephemerals) == 0 {
			continue
		}
		fmt.Fprintf(&b, "0x%x:\n", uint64(ss.id))
		for _, p := range ss.ephemerals {
			fmt.Fprintf(&b, "\t%s\n", p)
		}
	}

	b.WriteString("Connections dump:\nConnections ")
	connSets := map[int64][]string{}
	for _, cl := range connLines {
		connSets[cl.expireMs] = append(connSets[cl.expireMs], cl.text)
	}
	writeExpirySets(&b, connSets, len(connLines))
	return b.String(), true
}

// roundToTick rounds a time in milliseconds up to the next multiple of tickTime
// (ExpiryQueue.roundToNextInterval).
func (s *Server) roundToTick(ms int64) int64 {
	tick := max(s.cfg.TickMillis, 1)
	return (ms/tick + 1) * tick
}

// writeExpirySets prints expiry buckets as ZooKeeper's ExpiryQueue.dump: the set and element
// counts, then each set in time order with its elements.
func writeExpirySets(b *strings.Builder, sets map[int64][]string, elements int) {
	fmt.Fprintf(b, "Sets (%d)/(%d):\n", len(sets), elements)
	times := make([]int64, 0, len(sets))
	for at := range sets {
		times = append(times, at)
	}
	slices.Sort(times)
	for _, at := range times {
		fmt.Fprintf(b, "%d expire at %s:\n", len(sets[at]), time.UnixMilli(at).Format(javaDateLayout))
		for _, e := range sets[at] {
			fmt.Fprintf(b, "\t%s\n", e)
		}
	}
}
