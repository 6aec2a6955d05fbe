package conformance

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/zabkit/zabkit/zab/wire"
)

// The ensemble comparison (issue 8, second bullet and "the comparison must also hold through
// the daemon's failover"): the same client scenario runs on a 3-server Apache ZooKeeper
// ensemble and on a 3-server zabd ensemble. Which writes are acknowledged around a leader
// crash depends on timing, so the two runs are not compared line by line; each is checked
// against what ZooKeeper guarantees (FailoverRun.Violations), and the outcomes that do not
// depend on timing (FailoverRun.Outcome) must be the same on both.

const (
	// failoverSessionMs is the scenario's session timeout: long enough to outlive an election
	// (ZooKeeper keeps a session whose client resumes it within its timeout).
	failoverSessionMs = 30000
	// failoverWrites is how many creates the writer attempts; the leader is killed before
	// write failoverKillAt and the watched node is changed at write failoverTouchAt.
	failoverWrites  = 16
	failoverKillAt  = 4
	failoverTouchAt = 10
	// resumeWaitMax bounds one resume: the election plus the new leader's sync.
	resumeWaitMax = 20 * time.Second
	xidSetWatches = -8 // the Java client's xid for setWatches
)

// EnsembleMember is one server of an ensemble under test: its client address and how to
// kill it.
type EnsembleMember struct {
	Addr string
	Kill func()
}

// FailoverRun is what the failover scenario observed on one ensemble.
type FailoverRun struct {
	Name        string
	Leader      int   // index of the member that led and was killed
	Writer      int   // member the writer started on
	Reader      int   // member the reader started on
	ReadAfter   bool  // the reader saw the writer's create after sync, through another member
	Acked       []int // k-i creates that were answered OK
	Failed      map[int]wire.Err
	Unknown     []int // lost with a connection: may or may not have been applied
	TouchAcked  bool  // the setData on the watched node was answered OK
	TouchTried  bool
	WriterAlive bool // every resume of the writer's session succeeded
	ReaderAlive bool
	// WatchEvents are the reader's notifications for the watched node, in arrival order.
	WatchEvents []wire.WatcherEvent
	// Final is what a fresh session read after sync once the ensemble recovered.
	FinalChildren []string
	EphemeralLeft bool
	ZxidBackwards string // a non-empty description if a session saw its zxid go backwards
	NewLeader     bool   // the two survivors elected a leader
	// BadFrames are server frames that did not decode (a notification, say).
	BadFrames []string
	Log       []string
}

// Outcome is the part of a run that does not depend on timing: two conforming ensembles
// agree on it.
func (r *FailoverRun) Outcome() string {
	dataChanged := 0
	for _, ev := range r.WatchEvents {
		if ev.Type == wire.EventNodeDataChanged {
			dataChanged++
		}
	}
	return fmt.Sprintf("read-after-write-via-sync=%t writer-session-survived=%t reader-session-survived=%t "+
		"watched-change-acked=%t data-changed-events=%d ephemeral-left=%t new-leader=%t",
		r.ReadAfter, r.WriterAlive, r.ReaderAlive, r.TouchAcked, dataChanged, r.EphemeralLeft, r.NewLeader)
}

// Violations lists what ZooKeeper itself could not have produced.
func (r *FailoverRun) Violations() []string {
	var v []string
	if !r.ReadAfter {
		v = append(v, "a read after sync through another member missed an acknowledged create")
	}
	for _, i := range r.Acked {
		if !slices.Contains(r.FinalChildren, "k-"+strconv.Itoa(i)) {
			v = append(v, fmt.Sprintf("acknowledged create k-%d is gone after the failover", i))
		}
	}
	for _, c := range r.FinalChildren {
		if !strings.HasPrefix(c, "k-") {
			continue
		}
		i, _ := strconv.Atoi(strings.TrimPrefix(c, "k-"))
		if !slices.Contains(r.Acked, i) && !slices.Contains(r.Unknown, i) {
			v = append(v, fmt.Sprintf("k-%d exists but its create was never sent or failed", i))
		}
	}
	if r.EphemeralLeft != r.WriterAlive {
		v = append(v, fmt.Sprintf("the writer's ephemeral exists=%t while its session alive=%t", r.EphemeralLeft, r.WriterAlive))
	}
	changed := 0
	for _, ev := range r.WatchEvents {
		if ev.Type == wire.EventNodeDataChanged {
			changed++
		}
	}
	if changed > 1 {
		v = append(v, fmt.Sprintf("a one-shot data watch fired %d times", changed))
	}
	if changed == 0 && r.TouchAcked && r.ReaderAlive {
		v = append(v, "the reader's data watch never fired although the change was acknowledged and the session lived")
	}
	if r.ZxidBackwards != "" {
		v = append(v, r.ZxidBackwards)
	}
	if !r.NewLeader {
		v = append(v, "the two survivors did not elect a leader")
	}
	for _, f := range r.BadFrames {
		v = append(v, "a frame that does not decode: "+f)
	}
	return v
}

// failoverSession is a client session that outlives its connections, as a real client does:
// after a connection loss it resumes the session on the next member that takes it, with its
// lastZxidSeen, and re-arms its data watches with setWatches.
type failoverSession struct {
	run     *FailoverRun
	name    string
	addrs   []string
	at      int // index in addrs of the current connection
	conn    *Conn
	id      int64
	passwd  []byte
	zxid    int64
	xid     int32
	watches []string
	events  []wire.WatcherEvent
}

func (s *failoverSession) logf(format string, args ...any) {
	s.run.Log = append(s.run.Log, fmt.Sprintf("%s %s: ", time.Now().Format("15:04:05.000"), s.name)+fmt.Sprintf(format, args...))
}

// open starts a new session on member at.
func (s *failoverSession) open(at int) error {
	c, hs := Dial(s.addrs[at], wire.ConnectRequest{TimeoutMs: failoverSessionMs, Passwd: make([]byte, 16), HasReadOnly: true})
	if hs.Outcome != Replied || hs.Response.SessionID == 0 {
		return fmt.Errorf("%s: new session on %s: %v %v", s.name, s.addrs[at], hs.Outcome, hs.Err)
	}
	s.conn, s.at, s.id, s.passwd = c, at, hs.Response.SessionID, hs.Response.Passwd
	c.StartPinger(time.Duration(hs.Response.TimeoutMs) * time.Millisecond / 3)
	s.logf("session 0x%x on member %d", s.id, at)
	return nil
}

// call sends one request; a lost connection gives ok = false (the outcome is then unknown).
func (s *failoverSession) call(op wire.OpCode, body wire.Record) (wire.Reply, bool) {
	if s.conn == nil {
		return wire.Reply{}, false
	}
	s.xid++
	ex := s.conn.Call(s.xid, op, wire.AppendRequest(nil, wire.RequestHeader{Xid: s.xid, Type: op}, body))
	s.take(ex.Events)
	if ex.Outcome != Replied {
		s.logf("%s: %v (connection to member %d lost)", opName(op), ex.Outcome, s.at)
		s.conn.Close()
		s.conn = nil
		return wire.Reply{}, false
	}
	s.seen(ex.Reply.Header.Zxid)
	return ex.Reply, true
}

func (s *failoverSession) take(evs []wire.WatcherEvent) {
	for _, ev := range evs {
		s.logf("event %v %s", ev.Type, ev.Path)
		s.events = append(s.events, ev)
	}
}

func (s *failoverSession) seen(zxid int64) {
	if zxid <= 0 {
		return
	}
	if zxid < s.zxid && s.run.ZxidBackwards == "" {
		s.run.ZxidBackwards = fmt.Sprintf("%s saw zxid %#x after %#x", s.name, zxid, s.zxid)
	}
	s.zxid = max(s.zxid, zxid)
}

// resume reconnects the session to the next member that takes it, within resumeWaitMax. It
// reports false when a member answered that the session is no longer valid, or none took it.
func (s *failoverSession) resume() bool {
	deadline := time.Now().Add(resumeWaitMax)
	for try := 1; time.Now().Before(deadline); try++ {
		at := (s.at + try) % len(s.addrs)
		c, hs := Dial(s.addrs[at], wire.ConnectRequest{LastZxidSeen: s.zxid, TimeoutMs: failoverSessionMs,
			SessionID: s.id, Passwd: s.passwd, HasReadOnly: true})
		switch {
		case hs.Outcome == Replied && hs.Response.SessionID == 0:
			s.logf("resume on member %d: session expired", at)
			return false
		case hs.Outcome == Replied:
			s.conn, s.at = c, at
			c.StartPinger(time.Duration(hs.Response.TimeoutMs) * time.Millisecond / 3)
			s.logf("resumed on member %d", at)
			if len(s.watches) > 0 && !s.rearm() {
				continue
			}
			return true
		}
		time.Sleep(pollInterval)
	}
	s.logf("no member took the session within %v", resumeWaitMax)
	return false
}

// rearm sends setWatches for the data watches not yet fired: the server replays what the
// session missed since its lastZxidSeen (§8.6).
func (s *failoverSession) rearm() bool {
	ex := s.conn.Call(xidSetWatches, wire.OpSetWatches, wire.AppendRequest(nil,
		wire.RequestHeader{Xid: xidSetWatches, Type: wire.OpSetWatches},
		&wire.SetWatches{RelativeZxid: s.zxid, DataWatches: s.watches, ExistWatches: []string{}, ChildWatches: []string{}}))
	s.take(ex.Events)
	if ex.Outcome != Replied {
		s.conn.Close()
		s.conn = nil
		return false
	}
	return true
}

// RunFailover runs the scenario on an ensemble of three whose leader is members[leader]:
// a writer on one follower, a reader on the other; the reader reads the writer's create after
// sync and sets a data watch; the writer keeps creating nodes while the leader is killed,
// resuming its session wherever it can, and changes the watched node; the reader resumes
// with setWatches. Finally a fresh session reads what survived.
func RunFailover(name string, members []EnsembleMember, leader int, prefix string) *FailoverRun {
	r := &FailoverRun{Name: name, Leader: leader, Failed: map[int]wire.Err{}}
	var addrs []string
	var followers []int
	for i, m := range members {
		addrs = append(addrs, m.Addr)
		if i != leader {
			followers = append(followers, i)
		}
	}
	r.Writer, r.Reader = followers[0], followers[1]
	w := &failoverSession{run: r, name: "writer", addrs: addrs}
	rd := &failoverSession{run: r, name: "reader", addrs: addrs}
	defer func() {
		for _, s := range []*failoverSession{w, rd} {
			if s.conn != nil {
				s.conn.Close()
			}
		}
	}()
	if err := w.open(r.Writer); err != nil {
		r.Log = append(r.Log, err.Error())
		return r
	}
	if err := rd.open(r.Reader); err != nil {
		r.Log = append(r.Log, err.Error())
		return r
	}
	open := ACLs["open"]
	create := func(path, data string, mode wire.CreateMode) *wire.CreateRequest {
		return &wire.CreateRequest{Path: path, Data: []byte(data), ACL: open, Flags: mode}
	}
	watched := prefix + "/w"
	for _, req := range []*wire.CreateRequest{create(prefix, "", 0), create(watched, "v0", 0),
		create(prefix+"/eph", "", wire.ModeEphemeral), create(prefix+"/k-0", "0", 0)} {
		if rep, ok := w.call(wire.OpCreate, req); !ok || rep.Header.Err != wire.ErrOK {
			r.Log = append(r.Log, fmt.Sprintf("set-up create %s failed: %v", req.Path, rep.Header.Err))
			return r
		}
	}
	r.Acked = append(r.Acked, 0)
	if rep, ok := rd.call(wire.OpSync, &wire.SyncRequest{Path: prefix}); ok && rep.Header.Err == wire.ErrOK {
		rep, ok = rd.call(wire.OpGetData, &wire.GetDataRequest{Path: prefix + "/k-0"})
		r.ReadAfter = ok && rep.Header.Err == wire.ErrOK && string(rep.Body.(*wire.GetDataResponse).Data) == "0"
	}
	if rep, ok := rd.call(wire.OpGetData, &wire.GetDataRequest{Path: watched, Watch: true}); ok && rep.Header.Err == wire.ErrOK {
		rd.watches = []string{watched}
	}

	r.WriterAlive, r.ReaderAlive = true, true
	for i := 1; i <= failoverWrites && r.WriterAlive; i++ {
		if i == failoverKillAt {
			w.logf("killing the leader, member %d", leader)
			members[leader].Kill()
		}
		if i == failoverTouchAt {
			r.TouchTried = true
			rep, ok := w.call(wire.OpSetData, &wire.SetDataRequest{Path: watched, Data: []byte("v1"), Version: -1})
			r.TouchAcked = ok && rep.Header.Err == wire.ErrOK
			if !ok {
				r.WriterAlive = w.resume()
			}
		}
		rep, ok := w.call(wire.OpCreate, create(prefix+"/k-"+strconv.Itoa(i), strconv.Itoa(i), 0))
		switch {
		case !ok:
			r.Unknown = append(r.Unknown, i)
			r.WriterAlive = w.resume()
		case rep.Header.Err == wire.ErrOK:
			r.Acked = append(r.Acked, i)
		default:
			r.Failed[i] = rep.Header.Err
		}
	}

	// The reader's member lost its leader too: it resumes and re-arms its watch; a sync then
	// flushes whatever the new leader still has to tell it.
	if _, ok := rd.call(wire.OpSync, &wire.SyncRequest{Path: prefix}); !ok {
		r.ReaderAlive = rd.resume()
		if r.ReaderAlive {
			rd.call(wire.OpSync, &wire.SyncRequest{Path: prefix})
		}
	}
	if rd.conn != nil {
		_, evs, err := rd.conn.WaitClosed(time.Second)
		rd.take(evs)
		if err != nil {
			rd.logf("undecodable frame after the sync: %v", err)
			r.BadFrames = append(r.BadFrames, err.Error())
		}
	}
	for _, ev := range rd.events {
		if ev.Path == watched {
			r.WatchEvents = append(r.WatchEvents, ev)
		}
	}

	// A fresh session on a survivor reads what the ensemble kept.
	deadline := time.Now().Add(resumeWaitMax)
	for time.Now().Before(deadline) && r.FinalChildren == nil {
		for i := range members {
			if i == leader {
				continue
			}
			check := &failoverSession{run: r, name: "checker", addrs: addrs}
			if check.open(i) != nil {
				continue
			}
			if rep, ok := check.call(wire.OpSync, &wire.SyncRequest{Path: prefix}); ok && rep.Header.Err == wire.ErrOK {
				if rep, ok := check.call(wire.OpGetChildren, &wire.GetChildrenRequest{Path: prefix}); ok && rep.Header.Err == wire.ErrOK {
					r.FinalChildren = rep.Body.(*wire.GetChildrenResponse).Children
					slices.Sort(r.FinalChildren)
					r.EphemeralLeft = slices.Contains(r.FinalChildren, "eph")
				}
			}
			check.conn.Close()
			if r.FinalChildren != nil {
				break
			}
		}
		if r.FinalChildren == nil {
			time.Sleep(pollInterval)
		}
	}
	r.NewLeader = countModes(members, leader)["=leader"] == 1
	return r
}

// countModes asks each member but the killed one for its srvr Mode.
func countModes(members []EnsembleMember, skip int) map[string]int {
	out := map[string]int{}
	for i, m := range members {
		if i == skip {
			continue
		}
		mode := "not-serving"
		if r, err := FourLetterWord(m.Addr, "srvr", 2*time.Second); err == nil {
			if v, ok := ParseFourLetter("srvr", r).Fields["Mode"]; ok {
				mode = v
			}
		}
		out[mode]++
	}
	return out
}

// EnsembleLeader returns the index of the member whose srvr says Mode: leader, waiting up to
// wait for exactly one.
func EnsembleLeader(members []EnsembleMember, wait time.Duration) (int, error) {
	deadline := time.Now().Add(wait)
	for {
		leaders := []int{}
		for i, m := range members {
			if r, err := FourLetterWord(m.Addr, "srvr", 2*time.Second); err == nil &&
				ParseFourLetter("srvr", r).Fields["Mode"] == "=leader" {
				leaders = append(leaders, i)
			}
		}
		if len(leaders) == 1 {
			return leaders[0], nil
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("conformance: leaders %v after %v", leaders, wait)
		}
		time.Sleep(pollInterval)
	}
}
