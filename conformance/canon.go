package conformance

import (
	"bytes"
	"crypto/sha1"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/zabkit/zabkit/zab/wire"
)

// Canonical form of a transcript: one line per observation in which everything two
// conforming servers may legitimately choose differently is replaced by what they must agree
// on (issue 8):
//   - zxids by rank: every zxid a Stat reports, and the header zxid of every successful
//     write, form the run's set of transaction zxids Z; a zxid in Z prints as z<rank>, zero
//     as 0, and a header zxid of a read, a failed write or a ping as the rank of the newest
//     member of Z at or below it. So equality and order relations survive (czxid == mzxid
//     after a create, mzxid growing, a reply reflecting the latest write) while the raw
//     counters, and whether failed writes consume a zxid, do not matter;
//   - ctime/mtime by rank, as zxids: every time a Stat reports forms the run's set of
//     times; a time prints as t<rank>, zero as 0, and mtime < ctime is flagged. The runner
//     starts every request in a later millisecond than the previous reply (runner.request),
//     so two transactions of a run never share a millisecond on any server, and the ranks of
//     their times follow the ranks of their zxids: a node's mtime equals its ctime exactly
//     when it was never changed, and a setData that leaves mtime alone is caught;
//   - the quorum configuration node's Stat (isQuorumConfigStat) keeps its zxids, versions and
//     counts, but its mtime is only checked to be a wall time ("wall") and stays out of the
//     time ranks: the members write their configuration outside any transaction, each at its
//     own moment. Its data lists the members' ports, so ports are masked (configData) and its
//     dataLength is not printed;
//   - session ids as the session number that received them, passwords by length and
//     sameness;
//   - the run prefix as "~", children as sorted sets (their order is unspecified, §4.5),
//     large data as length and hash.

type canon struct {
	t     *Transcript
	zxids []int64 // sorted, distinct
	times []int64 // sorted, distinct ctime/mtime values above 0
}

// CanonicalLines renders a transcript, grouped by step: lines[i] are the lines of
// observations with Step == i-1 (index 0 holds the set-up).
func CanonicalLines(t *Transcript, steps int) [][]string {
	c := &canon{t: t}
	c.collectZxids()
	c.collectTimes()
	lines := make([][]string, steps+2)
	for _, o := range t.Observations {
		i := o.Step + 1
		if i < 0 || i >= len(lines) {
			continue
		}
		lines[i] = append(lines[i], c.observation(o))
	}
	return lines
}

func (c *canon) collectZxids() {
	set := map[int64]bool{}
	addStat := func(s *wire.Stat) {
		for _, z := range []int64{s.Czxid, s.Mzxid, s.Pzxid} {
			if z > 0 {
				set[z] = true
			}
		}
	}
	for _, o := range c.t.Observations {
		ex := o.Exchange
		if ex == nil || ex.Outcome != Replied || ex.Reply.Header.Err != wire.ErrOK {
			continue
		}
		forEachStat(ex.Reply.Body, addStat)
		if isSuccessfulWrite(o.Op, ex.Reply.Body) && ex.Reply.Header.Zxid > 0 {
			set[ex.Reply.Header.Zxid] = true
		}
	}
	for z := range set {
		c.zxids = append(c.zxids, z)
	}
	sort.Slice(c.zxids, func(i, j int) bool { return c.zxids[i] < c.zxids[j] })
}

// collectTimes gathers the ctime and mtime values of every Stat of a successful reply.
func (c *canon) collectTimes() {
	set := map[int64]bool{}
	for _, o := range c.t.Observations {
		ex := o.Exchange
		if ex == nil || ex.Outcome != Replied || ex.Reply.Header.Err != wire.ErrOK {
			continue
		}
		forEachStat(ex.Reply.Body, func(s *wire.Stat) {
			if isQuorumConfigStat(s) {
				return
			}
			for _, ms := range []int64{s.Ctime, s.Mtime} {
				if ms > 0 {
					set[ms] = true
				}
			}
		})
	}
	for ms := range set {
		c.times = append(c.times, ms)
	}
	sort.Slice(c.times, func(i, j int) bool { return c.times[i] < c.times[j] })
}

func forEachStat(body wire.Record, f func(*wire.Stat)) {
	switch b := body.(type) {
	case *wire.Create2Response:
		f(&b.Stat)
	case *wire.ExistsResponse:
		f(&b.Stat)
	case *wire.GetDataResponse:
		f(&b.Stat)
	case *wire.SetDataResponse:
		f(&b.Stat)
	case *wire.GetACLResponse:
		f(&b.Stat)
	case *wire.SetACLResponse:
		f(&b.Stat)
	case *wire.GetChildren2Response:
		f(&b.Stat)
	case *wire.MultiResponse:
		for _, r := range b.Results {
			forEachStat(r.Body, f)
		}
	}
}

func isSuccessfulWrite(op wire.OpCode, body wire.Record) bool {
	switch op {
	case wire.OpCreate, wire.OpCreate2, wire.OpCreateContainer, wire.OpCreateTTL, wire.OpDelete,
		wire.OpSetData, wire.OpSetACL:
		return true
	case wire.OpMulti:
		m, ok := body.(*wire.MultiResponse)
		if !ok {
			return false
		}
		for _, r := range m.Results {
			if r.Type == wire.OpError {
				return false
			}
		}
		return len(m.Results) > 0
	}
	return false
}

// zxid renders a zxid from a Stat or a successful write: its rank in Z.
func (c *canon) zxid(z int64) string {
	if z == 0 {
		return "0"
	}
	i := sort.Search(len(c.zxids), func(i int) bool { return c.zxids[i] >= z })
	if i < len(c.zxids) && c.zxids[i] == z {
		return fmt.Sprintf("z%d", i)
	}
	return c.headerZxid(z)
}

// headerZxid renders a reply's header zxid: the newest transaction at or below it.
func (c *canon) headerZxid(z int64) string {
	if z == 0 {
		return "0"
	}
	if z < 0 {
		return fmt.Sprintf("%d", z)
	}
	i := sort.Search(len(c.zxids), func(i int) bool { return c.zxids[i] > z })
	if i == 0 {
		return "before-z0"
	}
	return fmt.Sprintf("z%d", i-1)
}

// wallMsMin is a sanity floor for ctime/mtime: the year 2001.
const wallMsMin = 978307200000

// time renders a ctime or mtime: its rank among the run's times (collectTimes), 0, or the raw
// value when it is not a plausible wall-clock millisecond.
func (c *canon) time(ms int64) string {
	if ms == 0 {
		return "0"
	}
	if ms < wallMsMin || ms > time.Now().Add(24*time.Hour).UnixMilli() {
		return fmt.Sprintf("bad-time(%d)", ms)
	}
	i := sort.Search(len(c.times), func(i int) bool { return c.times[i] >= ms })
	if i < len(c.times) && c.times[i] == ms {
		return fmt.Sprintf("t%d", i)
	}
	return "T" // not from a Stat of a successful reply (never rendered today)
}

// isQuorumConfigStat tells the Stat of /zookeeper/config in an ensemble: a node no
// transaction wrote (czxid = mzxid = 0, ctime 0) with an mtime. Apache ZooKeeper 3.8.0 sets
// that mtime when the member writes its dynamic configuration (DataTree.processReconfig /
// QuorumPeer's initConfigInZKDatabase, outside any txn), so it is each member's own moment;
// on a standalone server, and for /, /zookeeper and /zookeeper/quota, mtime is 0. Recognised
// by its Stat because a reply does not carry its path (a multiRead's sub-reads included).
func isQuorumConfigStat(s *wire.Stat) bool {
	return s.Czxid == 0 && s.Mzxid == 0 && s.Ctime == 0 && s.Mtime != 0
}

// wallTime renders a time compared only as "a plausible wall-clock millisecond".
func wallTime(ms int64) string {
	if ms < wallMsMin || ms > time.Now().Add(24*time.Hour).UnixMilli() {
		return fmt.Sprintf("bad-time(%d)", ms)
	}
	return "wall"
}

var portRE = regexp.MustCompile(`:[0-9]+`)

// configData renders the quorum configuration's data ("server.1=127.0.0.1:2888:3888:
// participant;127.0.0.1:2181\n…version=0") with every port masked: the members' ids, roles,
// hosts and the configuration version must agree, the ports differ between any two ensembles.
func configData(b []byte) string {
	if b == nil {
		return "null"
	}
	return fmt.Sprintf("config%q", portRE.ReplaceAll(b, []byte(":<port>")))
}

func (c *canon) session(id int64) string {
	if id == 0 {
		return "0"
	}
	if n, ok := c.t.SessionIDs[id]; ok {
		return n
	}
	return "unknown-session"
}

func (c *canon) path(p string) string {
	if strings.HasPrefix(p, c.t.Prefix) {
		return "~" + p[len(c.t.Prefix):]
	}
	return p
}

func (c *canon) stat(s *wire.Stat) string {
	if isQuorumConfigStat(s) {
		return fmt.Sprintf("{czxid=%s mzxid=%s pzxid=%s ctime=%s mtime=%s version=%d cversion=%d aversion=%d owner=%s dataLength=(ports) numChildren=%d}",
			c.zxid(s.Czxid), c.zxid(s.Mzxid), c.zxid(s.Pzxid), c.time(s.Ctime), wallTime(s.Mtime), s.Version, s.Cversion,
			s.Aversion, c.session(s.EphemeralOwner), s.NumChildren)
	}
	mtime := c.time(s.Mtime)
	if s.Mtime < s.Ctime {
		mtime += "(<ctime!)"
	}
	return fmt.Sprintf("{czxid=%s mzxid=%s pzxid=%s ctime=%s mtime=%s version=%d cversion=%d aversion=%d owner=%s dataLength=%d numChildren=%d}",
		c.zxid(s.Czxid), c.zxid(s.Mzxid), c.zxid(s.Pzxid), c.time(s.Ctime), mtime, s.Version, s.Cversion,
		s.Aversion, c.session(s.EphemeralOwner), s.DataLength, s.NumChildren)
}

func data(b []byte) string {
	switch {
	case b == nil:
		return "null"
	case len(b) <= 48:
		return fmt.Sprintf("%q", b)
	}
	sum := sha1.Sum(b)
	return fmt.Sprintf("<%d bytes sha1:%x>", len(b), sum[:6])
}

func (c *canon) strs(xs []string, sorted bool) string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = fmt.Sprintf("%q", c.path(x))
	}
	if sorted {
		sort.Strings(out)
	}
	return "[" + strings.Join(out, " ") + "]"
}

func acls(xs []wire.ACL) string {
	var out []string
	for _, a := range xs {
		out = append(out, fmt.Sprintf("%d:%s:%s", a.Perms, a.ID.Scheme, a.ID.ID))
	}
	return "[" + strings.Join(out, " ") + "]"
}

func (c *canon) body(body wire.Record) string {
	switch b := body.(type) {
	case nil:
		return "-"
	case *wire.CreateResponse:
		return fmt.Sprintf("path=%q", c.path(b.Path))
	case *wire.Create2Response:
		return fmt.Sprintf("path=%q stat=%s", c.path(b.Path), c.stat(&b.Stat))
	case *wire.ExistsResponse:
		return "stat=" + c.stat(&b.Stat)
	case *wire.GetDataResponse:
		if isQuorumConfigStat(&b.Stat) {
			return fmt.Sprintf("data=%s stat=%s", configData(b.Data), c.stat(&b.Stat))
		}
		return fmt.Sprintf("data=%s stat=%s", data(b.Data), c.stat(&b.Stat))
	case *wire.SetDataResponse:
		return "stat=" + c.stat(&b.Stat)
	case *wire.GetACLResponse:
		return fmt.Sprintf("acl=%s stat=%s", acls(b.ACL), c.stat(&b.Stat))
	case *wire.SetACLResponse:
		return "stat=" + c.stat(&b.Stat)
	case *wire.GetChildrenResponse:
		return "children=" + c.strs(b.Children, true)
	case *wire.GetChildren2Response:
		return fmt.Sprintf("children=%s stat=%s", c.strs(b.Children, true), c.stat(&b.Stat))
	case *wire.SyncResponse:
		return fmt.Sprintf("path=%q", c.path(b.Path))
	case *wire.GetEphemeralsResponse:
		return "ephemerals=" + c.strs(b.Ephemerals, true)
	case *wire.GetAllChildrenNumberResponse:
		return fmt.Sprintf("total=%d", b.TotalNumber)
	case *wire.ErrorResponse:
		return fmt.Sprintf("err=%s", errName(b.Err))
	case *wire.WhoAmIResponse:
		var out []string
		for _, ci := range b.ClientInfo {
			out = append(out, ci.AuthScheme+":"+ci.User)
		}
		return "ids=[" + strings.Join(out, " ") + "]"
	case *wire.SetSASLResponse:
		return "token=" + data(b.Token)
	case *wire.MultiResponse:
		var out []string
		for _, r := range b.Results {
			if r.Type == wire.OpError {
				out = append(out, "error "+errName(r.Err))
			} else {
				out = append(out, opName(r.Type)+" "+c.body(r.Body))
			}
		}
		return "results=[" + strings.Join(out, "; ") + "]"
	}
	return fmt.Sprintf("%T%+v", body, body)
}

func (c *canon) events(evs []wire.WatcherEvent) string {
	if len(evs) == 0 {
		return ""
	}
	var out []string
	for _, e := range evs {
		out = append(out, fmt.Sprintf("%s(%q state=%d)", eventName(e.Type), c.path(e.Path), e.State))
	}
	return " events-before=[" + strings.Join(out, " ") + "]"
}

func (c *canon) observation(o Observation) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s → ", c.path(o.What))
	switch {
	case o.Handshake != nil:
		h := o.Handshake
		b.WriteString(h.Outcome.String())
		if h.Outcome == Replied {
			r := h.Response
			pw := fmt.Sprintf("%dB", len(r.Passwd))
			if stored, ok := c.t.Passwords[o.Session]; ok && r.SessionID != 0 && bytes.Equal(stored, r.Passwd) {
				pw += "(same)"
			} else if bytes.Equal(r.Passwd, make([]byte, len(r.Passwd))) {
				pw += "(zeros)"
			}
			fmt.Fprintf(&b, " protocolVersion=%d timeout=%d session=%s passwd=%s readOnly=%t hasReadOnlyByte=%t",
				r.ProtocolVersion, r.TimeoutMs, c.session(r.SessionID), pw, r.ReadOnly, r.HasReadOnly)
		}
	case o.Exchange != nil:
		ex := o.Exchange
		if o.Note != "" {
			b.WriteString(o.Note)
		} else {
			b.WriteString(ex.Outcome.String())
			if ex.Outcome == Replied {
				h := ex.Reply.Header
				fmt.Fprintf(&b, " err=%s zxid=%s", errName(h.Err), c.headerZxid(h.Zxid))
				if h.Err == wire.ErrOK {
					b.WriteString(" " + c.body(ex.Reply.Body))
				}
			}
			if ex.Outcome == BadFrame {
				fmt.Fprintf(&b, " (%v)", ex.Err)
			}
		}
		b.WriteString(c.events(ex.Events))
	default:
		b.WriteString(o.Note)
	}
	return b.String()
}

func errName(e wire.Err) string {
	names := map[wire.Err]string{
		wire.ErrOK: "OK", wire.ErrSystemError: "SystemError", wire.ErrRuntimeInconsistency: "RuntimeInconsistency",
		wire.ErrDataInconsistency: "DataInconsistency", wire.ErrConnectionLoss: "ConnectionLoss",
		wire.ErrMarshallingError: "MarshallingError", wire.ErrUnimplemented: "Unimplemented",
		wire.ErrOperationTimeout: "OperationTimeout", wire.ErrBadArguments: "BadArguments",
		wire.ErrUnknownSession: "UnknownSession", wire.ErrNewConfigNoQuorum: "NewConfigNoQuorum",
		wire.ErrReconfigInProgress: "ReconfigInProgress", wire.ErrAPIError: "APIError", wire.ErrNoNode: "NoNode",
		wire.ErrNoAuth: "NoAuth", wire.ErrBadVersion: "BadVersion", wire.ErrNoChildrenForEphemerals: "NoChildrenForEphemerals",
		wire.ErrNodeExists: "NodeExists", wire.ErrNotEmpty: "NotEmpty", wire.ErrSessionExpired: "SessionExpired",
		wire.ErrInvalidCallback: "InvalidCallback", wire.ErrInvalidACL: "InvalidACL", wire.ErrAuthFailed: "AuthFailed",
		wire.ErrSessionMoved: "SessionMoved", wire.ErrNotReadOnly: "NotReadOnly",
		wire.ErrEphemeralOnLocalSession: "EphemeralOnLocalSession", wire.ErrNoWatcher: "NoWatcher",
		wire.ErrRequestTimeout: "RequestTimeout", wire.ErrReconfigDisabled: "ReconfigDisabled",
		wire.ErrSessionClosedRequireSASLAuth: "SessionClosedRequireSASLAuth", wire.ErrQuotaExceeded: "QuotaExceeded",
		wire.ErrThrottledOp: "ThrottledOp",
	}
	if n, ok := names[e]; ok {
		return fmt.Sprintf("%s(%d)", n, e)
	}
	return fmt.Sprintf("unknown(%d)", e)
}

func eventName(e wire.EventType) string {
	switch e {
	case wire.EventNodeCreated:
		return "NodeCreated"
	case wire.EventNodeDeleted:
		return "NodeDeleted"
	case wire.EventNodeDataChanged:
		return "NodeDataChanged"
	case wire.EventNodeChildrenChanged:
		return "NodeChildrenChanged"
	}
	return fmt.Sprintf("event(%d)", e)
}
