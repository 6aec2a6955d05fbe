package conformance

import (
	"fmt"
	"strings"
	"time"

	"github.com/zabkit/zabkit/zab/wire"
)

// Bounds of a run.
const (
	// shortSessionMsMax: a session negotiated at or below it expires quickly once it has no
	// connection, so the runner waits for that expiry at once (see waitExpiry) instead of
	// letting it happen at a moment that depends on the machine's speed.
	shortSessionMsMax = 2000
	// expiryMarginMs is added to timeout + one tick (ZooKeeper rounds expiry up to the next
	// tick, §2.6) before the runner assumes a session without a connection has expired.
	expiryMarginMs = 1000
	// closeWaitMax bounds the wait for a server to close a connection it should close.
	closeWaitMax = time.Second
	// stepsMax bounds a sequence.
	stepsMax = 500
)

// Target is a server the differential tester talks to: an address and the settings it runs
// with (both sides must run with the same Settings; the runner uses TickTimeMs for expiry
// waits).
type Target struct {
	Name string
	Addr string
	// Members are the client addresses of an ensemble's members, when the target is one: the
	// session of slot i then always talks to member i mod len(Members) (a resume included),
	// and every request is preceded by a sync of its session (runner.syncBarrier).
	Members  []string
	Settings Settings
}

// Observation is what one step (or the set-up and tear-down around the steps) produced on one
// target: a handshake, an exchange, or a plain note such as "connection closed by server".
type Observation struct {
	Step      int // index in the sequence; -1 for set-up, len(steps) for tear-down
	Session   int
	What      string
	Op        wire.OpCode
	Handshake *Handshake
	Exchange  *Exchange
	Note      string
}

// Transcript is everything a sequence produced on one target, in order.
type Transcript struct {
	Target       Target
	Prefix       string
	Observations []Observation
	// SessionIDs maps the session ids the server handed out to session names (sessionName).
	SessionIDs map[int64]string
	// Passwords are the session passwords, by session number.
	Passwords map[int][]byte
	Started   time.Time
}

type session struct {
	id           int64
	passwd       []byte
	requestedMs  int32
	negotiatedMs int32
	readOnlyByte bool
	conn         *Conn
	lastZxid     int64
	xid          int32
	generation   int // how many sessions the slot has opened, this one included
}

// sessionName names the generation-th session opened in a slot: s2, then s2.2, s2.3...
func sessionName(slot, generation int) string {
	if generation <= 1 {
		return fmt.Sprintf("s%d", slot)
	}
	return fmt.Sprintf("s%d.%d", slot, generation)
}

type runner struct {
	t        *Transcript
	sessions map[int]*session
	step     int
	// maxZxid is the newest zxid any session of the run saw: a lastZxidSeen "ahead of the
	// server" must be ahead of it, whatever the server's epoch (Apache's standalone zxids
	// start at epoch 0, zabd's at epoch 1).
	maxZxid int64
	// lastReplyMs is the wall-clock millisecond in which the last request's wait ended.
	lastReplyMs int64
	// modes are the watch registrations of the run, for steps with GuardWatchModeOverlap.
	modes watchModes
}

// nextMillisecond waits (at most about a millisecond) until the clock has left the
// millisecond of the previous reply. A server stamps a transaction's ctime/mtime with its
// wall clock between request and reply, on the machine the runner runs on; so two
// transactions of one run always get different times, on every target, and the canonical
// form can rank times as it ranks zxids (canon.time) without two fast writes sharing a
// millisecond on one server and not on the other.
func (r *runner) nextMillisecond() {
	for i := 0; i < nextMillisecondPollsMax && time.Now().UnixMilli() <= r.lastReplyMs; i++ {
		time.Sleep(100 * time.Microsecond)
	}
}

// nextMillisecondPollsMax bounds nextMillisecond's wait (a clock stepped backwards must not
// stall the run).
const nextMillisecondPollsMax = 50

// Run executes steps against target under prefix (a node the runner creates first) and
// returns the transcript. Every connection it opens is closed before it returns.
func Run(target Target, prefix string, steps []Step) *Transcript {
	return run(target, prefix, steps, nil)
}

// run is Run with a hook called after the steps and before the tear-down, with the runner
// (its step set to len(steps)): what it records is compared with the tear-down.
func run(target Target, prefix string, steps []Step, beforeTeardown func(r *runner)) *Transcript {
	if len(steps) > stepsMax {
		steps = steps[:stepsMax]
	}
	r := &runner{
		t: &Transcript{Target: target, Prefix: prefix, SessionIDs: map[int64]string{}, Passwords: map[int][]byte{},
			Started: time.Now()},
		sessions: map[int]*session{},
		modes:    watchModes{},
	}
	defer r.closeAll()
	r.step = -1
	const setup = -1
	r.connect(Step{Session: setup, Kind: StepConnect, TimeoutMs: 30000, ReadOnlyByte: true})
	r.request(Step{Session: setup, Kind: StepRequest, Op: wire.OpCreate2, Path: "~", ACL: "open", Text: "prefix"})
	r.request(Step{Session: setup, Kind: StepRequest, Op: wire.OpCloseSession})
	for i, s := range steps {
		r.step = i
		switch s.Kind {
		case StepConnect:
			r.connect(s)
		case StepRequest, StepRaw:
			r.request(s)
		case StepDisconnect:
			r.disconnect(s)
		case StepReconnect:
			r.reconnect(s)
		case StepExpire:
			r.expire(s)
		}
	}
	// Tear-down: close every open session in order, which also collects the notifications
	// still queued for it (those of earlier closes included).
	r.step = len(steps)
	if beforeTeardown != nil {
		beforeTeardown(r)
	}
	for i := range sessionsMax {
		if ss := r.sessions[i]; ss != nil && ss.conn != nil {
			r.request(Step{Session: i, Kind: StepRequest, Op: wire.OpCloseSession})
		}
	}
	return r.t
}

func (r *runner) record(o Observation) {
	o.Step = r.step
	r.t.Observations = append(r.t.Observations, o)
	if o.Exchange != nil {
		for _, ev := range o.Exchange.Events {
			r.modes.fired(o.Session, r.stepPath(ev.Path), ev.Type)
		}
	}
}

// addr is the address a session slot talks to: its member of an ensemble, or the server.
func (r *runner) addr(slot int) string {
	if m := r.t.Target.Members; len(m) > 0 {
		return m[(slot%len(m)+len(m))%len(m)] // the set-up slot is -1
	}
	return r.t.Target.Addr
}

// syncBarrier makes a request on an ensemble member see everything applied before it, as on a
// single server: a sync of "/" (answered once the member has applied every transaction the
// leader committed before it) and the notifications that came before its reply, which are
// handed to the request's observation. Without it a read through a follower, and the events
// it has already received, would depend on how far that follower lags. It reports false when
// the barrier itself found the connection gone (recorded).
func (r *runner) syncBarrier(session int, ss *session) ([]wire.WatcherEvent, bool) {
	ss.xid++
	xid := ss.xid
	ex := ss.conn.Call(xid, wire.OpSync, wire.AppendRequest(nil, wire.RequestHeader{Xid: xid, Type: wire.OpSync},
		&wire.SyncRequest{Path: "/"}))
	if ex.Outcome == Replied {
		if ex.Reply.Header.Zxid > ss.lastZxid {
			ss.lastZxid = ex.Reply.Header.Zxid
		}
		return ex.Events, true
	}
	r.record(Observation{Session: session, What: "sync barrier", Exchange: &ex})
	r.lost(session)
	return nil, false
}

// stepPath turns a server path into step form: the run prefix becomes "~".
func (r *runner) stepPath(p string) string {
	if rest, ok := strings.CutPrefix(p, r.t.Prefix); ok && (rest == "" || strings.HasPrefix(rest, "/")) {
		return "~" + rest
	}
	return p
}

func (r *runner) connect(s Step) {
	generation := 1
	if old := r.sessions[s.Session]; old != nil {
		// A new session in a used slot: the old one, if still connected, is closed first
		// (closing rather than dropping it spares the wait for a short session's expiry).
		generation = old.generation + 1
		if old.conn != nil {
			r.request(Step{Session: s.Session, Kind: StepRequest, Op: wire.OpCloseSession})
			if old.conn != nil {
				r.lost(s.Session)
			}
		}
	}
	ss := &session{requestedMs: s.TimeoutMs, readOnlyByte: s.ReadOnlyByte, generation: generation}
	r.sessions[s.Session] = ss
	r.modes.forgetSession(s.Session)
	req := wire.ConnectRequest{TimeoutMs: s.TimeoutMs, Passwd: make([]byte, 16), HasReadOnly: s.ReadOnlyByte}
	c, hs := Dial(r.addr(s.Session), req)
	r.record(Observation{Session: s.Session, What: s.String(), Handshake: &hs})
	if c == nil {
		return
	}
	if hs.Response.SessionID == 0 {
		r.waitClosed(s.Session, c, "after an invalid-session response")
		return
	}
	ss.id, ss.passwd, ss.negotiatedMs, ss.conn = hs.Response.SessionID, hs.Response.Passwd, hs.Response.TimeoutMs, c
	r.t.SessionIDs[ss.id] = sessionName(s.Session, generation)
	r.t.Passwords[s.Session] = ss.passwd
	c.StartPinger(time.Duration(ss.negotiatedMs) * time.Millisecond / 3)
}

func (r *runner) request(s Step) {
	if s.GuardWatchModeOverlap && r.modes.overlaps(s) {
		r.record(Observation{Session: s.Session, What: s.String(), Note: "left out: watch-mode-overlap (a known difference)"})
		return
	}
	ss := r.sessions[s.Session]
	if ss == nil || ss.conn == nil {
		r.record(Observation{Session: s.Session, What: s.String(), Op: s.Op, Exchange: &Exchange{Outcome: NotConnected}})
		return
	}
	ss.xid++
	xid := ss.xid
	if s.Op == wire.OpAuth && !s.AuthXidNormal {
		xid = wire.XidAuth
	}
	var before []wire.WatcherEvent
	if len(r.t.Target.Members) > 1 {
		evs, ok := r.syncBarrier(s.Session, ss)
		if !ok {
			r.record(Observation{Session: s.Session, What: s.String(), Op: s.Op, Exchange: &Exchange{Outcome: NotConnected}})
			return
		}
		before = evs
		ss.xid++
		xid = ss.xid
		if s.Op == wire.OpAuth && !s.AuthXidNormal {
			xid = wire.XidAuth
		}
	}
	frame := s.frame(r.t.Prefix, xid, ss.lastZxid, wire.FrameBytesMaxDefault)
	r.nextMillisecond()
	ex := ss.conn.Call(xid, s.Op, frame)
	r.lastReplyMs = time.Now().UnixMilli()
	ex.Events = append(before, ex.Events...)
	if ex.Outcome == Replied && ex.Reply.Header.Zxid > ss.lastZxid {
		ss.lastZxid = ex.Reply.Header.Zxid
	}
	r.maxZxid = max(r.maxZxid, ss.lastZxid)
	r.record(Observation{Session: s.Session, What: s.String(), Op: s.Op, Exchange: &ex})
	// After the events that came before the reply: they fired earlier registrations.
	r.modes.add(s)
	switch {
	case ex.Outcome != Replied:
		r.lost(s.Session)
	case s.Op == wire.OpCloseSession && ex.Reply.Header.Err == wire.ErrOK:
		r.waitClosed(s.Session, ss.conn, "after closeSession")
		ss.conn.Close()
		ss.conn = nil
	case closesConnection(s, ex.Reply.Header.Err):
		if r.waitClosed(s.Session, ss.conn, fmt.Sprintf("after %s %s", opName(s.Op), errName(ex.Reply.Header.Err))) {
			r.lost(s.Session)
		}
	}
}

// closesConnection says whether the reference server may close the connection after this
// reply (§3.5 unknown op, §9.5 auth failure, SASL), so the runner waits for the close to
// happen (or not) before the next step instead of racing it.
func closesConnection(s Step, err wire.Err) bool {
	return s.Kind == StepRaw || err == wire.ErrUnimplemented || err == wire.ErrAuthFailed ||
		err == wire.ErrSessionExpired || s.Op == wire.OpSASL || s.Op == wire.OpCloseSession
}

// waitClosed records whether the server closes c within closeWaitMax after what (the reply
// or handshake just recorded), with the notifications it sent before closing.
func (r *runner) waitClosed(session int, c *Conn, what string) bool {
	closed, events, err := c.WaitClosed(closeWaitMax)
	note := "connection stays open"
	if closed {
		note = "server closed the connection"
	}
	ex := &Exchange{Outcome: Replied, Events: events}
	if err != nil {
		note = ""
		ex.Outcome, ex.Err = BadFrame, err
	}
	r.record(Observation{Session: session, What: what, Exchange: ex, Note: note})
	return closed
}

// lost forgets a session's connection after the server closed it (or it failed). What the
// server sent on it and was not read yet (notifications after a request that got no reply,
// say) is recorded first, so no watch event escapes the comparison.
func (r *runner) lost(session int) {
	ss := r.sessions[session]
	if ss.conn == nil {
		return
	}
	if ex := ss.conn.drain(); len(ex.Events) > 0 || ex.Outcome == BadFrame {
		note := ""
		if ex.Outcome != BadFrame {
			note = "unread notifications"
		}
		r.record(Observation{Session: session, What: "left on the connection", Exchange: &ex, Note: note})
	}
	ss.conn.Close()
	ss.conn = nil
	r.waitExpiry(session)
}

// beforeClientClose reads, before the client closes a session's connection itself, every
// notification the server has sent on it: it sends exists("/") and waits for the reply, which
// the server queues behind the notifications of every transaction applied before it (the
// barrier a real client gets from any request). The events collected, or what became of the
// barrier, go into the observation of the close.
func (r *runner) beforeClientClose(ss *session) *Exchange {
	ss.xid++
	xid := ss.xid
	ex := ss.conn.Call(xid, wire.OpExists, wire.AppendRequest(nil, wire.RequestHeader{Xid: xid, Type: wire.OpExists},
		&wire.ExistsRequest{Path: "/"}))
	if ex.Outcome == Replied && ex.Reply.Header.Zxid > ss.lastZxid {
		ss.lastZxid = ex.Reply.Header.Zxid
	}
	return &Exchange{Outcome: ex.Outcome, Events: ex.Events, Err: ex.Err}
}

// waitExpiry waits, for a short session that has just lost its connection, until the server
// must have expired it, so that the expiry (and the notifications it fires) happens at the
// same point of the sequence on every target.
func (r *runner) waitExpiry(session int) {
	ss := r.sessions[session]
	if ss.negotiatedMs <= 0 || ss.negotiatedMs > shortSessionMsMax {
		return
	}
	time.Sleep(time.Duration(int(ss.negotiatedMs)+r.t.Target.Settings.TickTimeMs+expiryMarginMs) * time.Millisecond)
	r.record(Observation{Session: session, What: "waited for expiry", Note: fmt.Sprintf("waited %d ms + 1 tick + margin", ss.negotiatedMs)})
}

func (r *runner) disconnect(s Step) {
	ss := r.sessions[s.Session]
	if ss == nil || ss.conn == nil {
		r.record(Observation{Session: s.Session, What: s.String(), Note: "not connected"})
		return
	}
	ex := r.beforeClientClose(ss)
	note := "client closed the connection"
	if ex.Outcome != Replied {
		note = fmt.Sprintf("client closed the connection (the barrier before it: %s)", ex.Outcome)
	}
	r.record(Observation{Session: s.Session, What: s.String(), Exchange: ex, Note: note})
	r.lost(s.Session)
}

func (r *runner) reconnect(s Step) {
	ss := r.sessions[s.Session]
	if ss == nil || ss.id == 0 {
		r.record(Observation{Session: s.Session, What: s.String(), Note: "no session to resume"})
		return
	}
	req := wire.ConnectRequest{LastZxidSeen: ss.lastZxid, TimeoutMs: ss.requestedMs, SessionID: ss.id,
		Passwd: append([]byte(nil), ss.passwd...), HasReadOnly: ss.readOnlyByte}
	if s.BadPassword {
		req.Passwd[0] ^= 0xff
	}
	if s.FutureZxid {
		req.LastZxidSeen = max(req.LastZxidSeen, r.maxZxid) + 1<<30
	}
	old := ss.conn
	c, hs := Dial(r.addr(s.Session), req)
	r.record(Observation{Session: s.Session, What: s.String(), Handshake: &hs})
	if c != nil && hs.Response.SessionID != 0 {
		ss.conn, ss.negotiatedMs = c, hs.Response.TimeoutMs
		c.StartPinger(time.Duration(ss.negotiatedMs) * time.Millisecond / 3)
		if old != nil {
			// The server drops the session's previous connection (§2.3 step 8).
			r.waitClosed(s.Session, old, "previous connection, after the resume")
			old.Close()
		}
		return
	}
	if c != nil {
		r.waitClosed(s.Session, c, "after an invalid-session response")
		c.Close()
	}
	if old != nil {
		// The reference closes the previous connection even when the resume fails (§2.3).
		if r.waitClosed(s.Session, old, "previous connection, after the failed resume") {
			ss.conn = old // so that lost() closes it and waits for a short session's expiry
			r.lost(s.Session)
		}
	}
}

func (r *runner) expire(s Step) {
	ss := r.sessions[s.Session]
	if ss == nil || ss.id == 0 {
		r.record(Observation{Session: s.Session, What: s.String(), Note: "no session to expire"})
		return
	}
	if ss.negotiatedMs > shortSessionMsMax {
		r.record(Observation{Session: s.Session, What: s.String(), Note: fmt.Sprintf("not expired: negotiated %d ms is too long to wait for", ss.negotiatedMs)})
		return
	}
	if ss.conn != nil {
		ex := r.beforeClientClose(ss)
		note := "client closed the connection"
		if ex.Outcome != Replied {
			note = fmt.Sprintf("client closed the connection (the barrier before it: %s)", ex.Outcome)
		}
		r.record(Observation{Session: s.Session, What: s.String(), Exchange: ex, Note: note})
		r.lost(s.Session)
	}
	r.reconnect(Step{Session: s.Session, Kind: StepReconnect})
}

// closeAll closes every connection still open (after a panic or at the end).
func (r *runner) closeAll() {
	for _, ss := range r.sessions {
		if ss.conn != nil {
			ss.conn.Close()
			ss.conn = nil
		}
	}
}
