package daemon

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zabkit/zabkit/checker"
	"github.com/zabkit/zabkit/zab"
	"github.com/zabkit/zabkit/zab/node"
	"github.com/zabkit/zabkit/zab/wire"
)

// rawSession is a minimal ZooKeeper client on zab/wire that exposes what go-zookeeper
// hides and the checker needs: each request's xid and each reply's zxid. One request at a
// time; it reconnects to the next server with the same session after a failure.
type rawSession struct {
	addrs     []string
	next      int
	nc        net.Conn
	fr        *wire.FrameReader
	id        int64
	passwd    []byte
	xid       int32
	lastZxid  int64
	timeoutMs int32
}

var errExpired = errors.New("session expired")

const rawCallTimeout = 2 * time.Second

// connect (re)establishes the session on the next server in turn.
func (s *rawSession) connect() error {
	s.close()
	addr := s.addrs[s.next%len(s.addrs)]
	s.next++
	nc, err := net.DialTimeout("tcp", addr, rawCallTimeout)
	if err != nil {
		return err
	}
	nc.SetDeadline(time.Now().Add(rawCallTimeout))
	passwd := s.passwd
	if passwd == nil {
		passwd = make([]byte, 16)
	}
	req := &wire.ConnectRequest{LastZxidSeen: s.lastZxid, TimeoutMs: s.timeoutMs, SessionID: s.id, Passwd: passwd}
	if _, err := nc.Write(wire.AppendConnectRequest(nil, req)); err != nil {
		nc.Close()
		return err
	}
	fr := wire.NewFrameReader(nc, wire.FrameBytesMaxDefault)
	payload, err := fr.Next()
	if err != nil {
		nc.Close()
		return err
	}
	resp, err := wire.DecodeConnectResponse(payload)
	if err != nil {
		nc.Close()
		return err
	}
	if resp.TimeoutMs <= 0 {
		nc.Close()
		return errExpired
	}
	s.nc, s.fr, s.id, s.passwd = nc, fr, resp.SessionID, resp.Passwd
	return nil
}

func (s *rawSession) close() {
	if s.nc != nil {
		s.nc.Close()
		s.nc = nil
	}
}

// call sends one request and waits for its reply, skipping notifications.
func (s *rawSession) call(op wire.OpCode, body wire.Record) (int32, wire.Reply, error) {
	s.xid++
	xid := s.xid
	if s.nc == nil {
		return xid, wire.Reply{}, errors.New("not connected")
	}
	s.nc.SetDeadline(time.Now().Add(rawCallTimeout))
	if _, err := s.nc.Write(wire.AppendRequest(nil, wire.RequestHeader{Xid: xid, Type: op}, body)); err != nil {
		s.close()
		return xid, wire.Reply{}, err
	}
	for {
		payload, err := s.fr.Next()
		if err != nil {
			s.close()
			return xid, wire.Reply{}, err
		}
		rep, err := wire.DecodeReply(payload, op)
		if err != nil {
			s.close()
			return xid, wire.Reply{}, err
		}
		if rep.Header.Xid == wire.XidNotification {
			continue
		}
		if rep.Header.Xid != xid {
			s.close()
			return xid, rep, fmt.Errorf("reply xid %d to request xid %d", rep.Header.Xid, xid)
		}
		s.lastZxid = max(s.lastZxid, rep.Header.Zxid)
		return xid, rep, nil
	}
}

// historyRecorder collects a checker.History from several rawSessions and the members'
// Committed outputs.
type historyRecorder struct {
	start time.Time
	mu    sync.Mutex
	h     checker.History
	txns  map[zab.Zxid]node.Committed
	// applied is each member's own committed order (0-based member index): a check of what
	// a given member holds must not borrow another member's commits.
	applied map[int][]zab.Zxid
	bad     []string
}

func newHistoryRecorder() *historyRecorder {
	return &historyRecorder{start: time.Now(), txns: map[zab.Zxid]node.Committed{}, applied: map[int][]zab.Zxid{}}
}

func (r *historyRecorder) now() int64 { return time.Since(r.start).Nanoseconds() }

// committed is the Ensemble's Committed hook: every member must apply the same txn with the
// same tree digest at each zxid.
func (r *historyRecorder) committed(member int, c node.Committed) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.applied[member] = append(r.applied[member], c.Zxid)
	prev, ok := r.txns[c.Zxid]
	if !ok {
		r.txns[c.Zxid] = node.Committed{Zxid: c.Zxid, Data: slices.Clone(c.Data), Digest: c.Digest}
		return
	}
	if string(prev.Data) != string(c.Data) || prev.Digest != c.Digest {
		r.bad = append(r.bad, fmt.Sprintf("member %d applied a different txn or digest at %v", member+1, c.Zxid))
	}
}

// do runs one recorded request on session s of client.
func (r *historyRecorder) do(client int, s *rawSession, req checker.Request, body wire.Record) (wire.Reply, error) {
	call := r.now()
	xid, rep, err := s.call(req.Type, body)
	o := checker.Op{Client: client, Session: s.id, Xid: xid, Call: call, Return: r.now(), Request: req}
	if err != nil {
		o.Unknown = true
	} else {
		o.Err, o.Zxid = rep.Header.Err, rep.Header.Zxid
		switch b := rep.Body.(type) {
		case *wire.GetDataResponse:
			st := b.Stat
			o.Reply = checker.Reply{Data: b.Data, Stat: &st}
		case *wire.SetDataResponse:
			st := b.Stat
			o.Reply = checker.Reply{Stat: &st}
		case *wire.CreateResponse:
			o.Reply = checker.Reply{Path: b.Path}
		}
	}
	r.mu.Lock()
	r.h.Ops = append(r.h.Ops, o)
	r.mu.Unlock()
	return rep, err
}

func (r *historyRecorder) established(client int, s *rawSession) {
	r.mu.Lock()
	r.h.Sessions = append(r.h.Sessions, checker.SessionEvent{Client: client, Session: s.id, Kind: checker.SessionEstablished, Time: r.now()})
	r.mu.Unlock()
}

// history is the finished history with member's committed order (0-based; a member that
// never restarted, so its order is complete), sync markers left out.
func (r *historyRecorder) history(t *testing.T, member int) *checker.History {
	r.mu.Lock()
	defer r.mu.Unlock()
	require.Empty(t, r.bad, "replicas disagree")
	h := r.h
	zxids := r.applied[member]
	require.True(t, slices.IsSorted(zxids), "member %d applied txns out of zxid order", member+1)
	for _, z := range zxids {
		x, err := node.DecodeTxn(r.txns[z].Data)
		require.NoError(t, err, "committed txn %v", z)
		if !x.Sync {
			h.Committed = append(h.Committed, checker.CommittedTxn{Zxid: int64(z), Txn: x.Tree})
		}
	}
	return &h
}

// setDataApplied is the set of values member (0-based) applied in setData txns, over its
// whole run (a member that never restarted reports every txn from the first).
func (r *historyRecorder) setDataApplied(t *testing.T, member int) map[string]bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	values := map[string]bool{}
	for _, z := range r.applied[member] {
		x, err := node.DecodeTxn(r.txns[z].Data)
		require.NoError(t, err, "member %d's committed txn %v must decode", member+1, z)
		if !x.Sync && x.Tree.Type == wire.OpSetData {
			values[string(x.Tree.Data)] = true
		}
	}
	return values
}
