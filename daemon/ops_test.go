package daemon

import (
	"fmt"
	"io"
	"net"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every client-visible feature through go-zookeeper, against a standalone server and a
// 3-server ensemble (the client on a follower when there is one, so writes are forwarded).
func TestClientOperations(t *testing.T) {
	for _, n := range []int{1, 3} {
		t.Run(fmt.Sprintf("%d servers", n), func(t *testing.T) {
			e := startEnsemble(t, n)
			addr := e.Addrs()[0]
			if n > 1 {
				addr = e.Addrs()[(e.Leader()+1)%n]
			}
			for _, tc := range []struct {
				name string
				run  func(t *testing.T, e *Ensemble, addr string)
			}{
				{"crud", testCRUD},
				{"watches", testWatches},
				{"ephemeral and sequential", testEphemeralSequential},
				{"multi", testMulti},
				{"digest ACL", testDigestACL},
				{"session expiry", testSessionExpiry},
			} {
				t.Run(tc.name, func(t *testing.T) { tc.run(t, e, addr) })
			}
		})
	}
}

var open = zk.WorldACL(zk.PermAll)

func testCRUD(t *testing.T, e *Ensemble, addr string) {
	c, _ := connect(t, []string{addr}, 4*time.Second)
	_, err := c.Create("/crud", []byte("v0"), 0, open)
	require.NoError(t, err, `c.Create("/crud", []byte("v0"), 0, open)`)
	_, err = c.Create("/crud", nil, 0, open)
	assert.ErrorIs(t, err, zk.ErrNodeExists, "second create of /crud")
	_, err = c.Create("/crud/a/b", nil, 0, open)
	assert.ErrorIs(t, err, zk.ErrNoNode, "create under a missing parent")

	st, err := c.Set("/crud", []byte("v1"), 0)
	require.NoError(t, err, `c.Set("/crud", []byte("v1"), 0)`)
	assert.Equal(t, int32(1), st.Version, "version after one setData")
	_, err = c.Set("/crud", []byte("v2"), 0)
	assert.ErrorIs(t, err, zk.ErrBadVersion, "setData with a stale version")

	data, st, err := c.Get("/crud")
	require.NoError(t, err, `c.Get("/crud")`)
	assert.Equal(t, "v1", string(data))
	assert.Equal(t, int32(2), st.DataLength)

	ok, st, err := c.Exists("/crud")
	require.NoError(t, err, `c.Exists("/crud")`)
	assert.True(t, ok)
	assert.Equal(t, int32(1), st.Version)
	ok, _, err = c.Exists("/missing")
	require.NoError(t, err, `c.Exists("/missing")`)
	assert.False(t, ok)

	for _, k := range []string{"x", "y", "z"} {
		_, err := c.Create("/crud/"+k, []byte(k), 0, open)
		require.NoError(t, err, "create /crud/%s", k)
	}
	kids, st, err := c.Children("/crud")
	require.NoError(t, err, `c.Children("/crud")`)
	sort.Strings(kids)
	assert.Equal(t, []string{"x", "y", "z"}, kids)
	assert.Equal(t, int32(3), st.NumChildren)

	err = c.Delete("/crud", -1)
	assert.ErrorIs(t, err, zk.ErrNotEmpty, "delete of a node with children")
	require.NoError(t, c.Delete("/crud/x", 0))
	assert.ErrorIs(t, c.Delete("/crud/x", -1), zk.ErrNoNode)

	_, err = c.Sync("/crud")
	require.NoError(t, err, `c.Sync("/crud")`)

	_, err = c.CreateContainer("/container", nil, zk.FlagContainer, open)
	require.NoError(t, err, `c.CreateContainer("/container", nil, zk.FlagContainer, open)`)
	_, err = c.Create("/container/kid", nil, 0, open)
	require.NoError(t, err, `c.Create("/container/kid", nil, 0, open)`)
	acl, _, err := c.GetACL("/crud")
	require.NoError(t, err, `c.GetACL("/crud")`)
	assert.Equal(t, open, acl)
}

func testWatches(t *testing.T, e *Ensemble, addr string) {
	c, _ := connect(t, []string{addr}, 4*time.Second)
	other, _ := connect(t, e.Addrs(), 4*time.Second)
	_, err := c.Create("/w", []byte("0"), 0, open)
	require.NoError(t, err, `c.Create("/w", []byte("0"), 0, open)`)

	_, _, dataW, err := c.GetW("/w")
	require.NoError(t, err, `c.GetW("/w")`)
	_, _, kidsW, err := c.ChildrenW("/w")
	require.NoError(t, err, `c.ChildrenW("/w")`)
	_, _, existsW, err := c.ExistsW("/w/new")
	require.NoError(t, err, `c.ExistsW("/w/new")`)

	_, err = other.Set("/w", []byte("1"), -1)
	require.NoError(t, err, `other.Set("/w", []byte("1"), -1)`)
	ev := waitEvent(t, dataW, "data watch on /w")
	assert.Equal(t, zk.EventNodeDataChanged, ev.Type)
	assert.Equal(t, "/w", ev.Path)

	_, err = other.Create("/w/new", nil, 0, open)
	require.NoError(t, err, `other.Create("/w/new", nil, 0, open)`)
	ev = waitEvent(t, existsW, "exists watch on /w/new")
	assert.Equal(t, zk.EventNodeCreated, ev.Type)
	ev = waitEvent(t, kidsW, "child watch on /w")
	assert.Equal(t, zk.EventNodeChildrenChanged, ev.Type)

	// A watch fires once: a second change sends nothing on the same channel.
	_, err = other.Set("/w", []byte("2"), -1)
	require.NoError(t, err, `other.Set("/w", []byte("2"), -1)`)
	// c's member may not have applied that set yet: sync first, or the new watch would
	// (correctly) fire for it.
	_, err = c.Sync("/w")
	require.NoError(t, err, `c.Sync("/w")`)
	_, _, dataW, err = c.GetW("/w")
	require.NoError(t, err, `c.GetW("/w")`)
	require.NoError(t, other.Delete("/w/new", -1))
	require.NoError(t, other.Delete("/w", -1))
	ev = waitEvent(t, dataW, "data watch on deleted /w")
	assert.Equal(t, zk.EventNodeDeleted, ev.Type)
}

func waitEvent(t *testing.T, ch <-chan zk.Event, what string) zk.Event {
	t.Helper()
	select {
	case ev := <-ch:
		return ev
	case <-time.After(waitMax):
		t.Fatalf("%s did not fire within %v", what, waitMax)
		return zk.Event{}
	}
}

func testEphemeralSequential(t *testing.T, e *Ensemble, addr string) {
	owner, _ := connect(t, []string{addr}, 4*time.Second)
	watcher, _ := connect(t, e.Addrs(), 4*time.Second)
	_, err := owner.Create("/seq", nil, 0, open)
	require.NoError(t, err, `owner.Create("/seq", nil, 0, open)`)
	var names []string
	for range 3 {
		p, err := owner.Create("/seq/n-", nil, zk.FlagSequence, open)
		require.NoError(t, err, `owner.Create("/seq/n-", nil, zk.FlagSequence, open)`)
		names = append(names, p)
	}
	assert.Equal(t, []string{"/seq/n-0000000000", "/seq/n-0000000001", "/seq/n-0000000002"}, names,
		"sequential suffixes are the parent's cversion, 10 digits")
	p, err := owner.Create("/seq/eph-", nil, zk.FlagEphemeral|zk.FlagSequence, open)
	require.NoError(t, err, `owner.Create("/seq/eph-", nil, zk.FlagEphemeral|zk.FlagSequence, open)`)
	assert.Equal(t, "/seq/eph-0000000003", p)
	_, st, err := owner.Get(p)
	require.NoError(t, err, `owner.Get(p)`)
	assert.Equal(t, owner.SessionID(), st.EphemeralOwner, "the ephemeral's owner is the creating session")
	_, err = owner.Create(p+"/child", nil, 0, open)
	assert.ErrorIs(t, err, zk.ErrNoChildrenForEphemerals)

	ok, _, gone, err := watcher.ExistsW(p)
	require.NoError(t, err, `watcher.ExistsW(p)`)
	require.True(t, ok)
	owner.Close()
	ev := waitEvent(t, gone, "ephemeral deletion on session close")
	assert.Equal(t, zk.EventNodeDeleted, ev.Type)
}

func testMulti(t *testing.T, e *Ensemble, addr string) {
	c, _ := connect(t, []string{addr}, 4*time.Second)
	res, err := c.Multi(
		&zk.CreateRequest{Path: "/m", Data: []byte("a"), Acl: open},
		&zk.CreateRequest{Path: "/m/1", Acl: open},
		&zk.SetDataRequest{Path: "/m", Data: []byte("b"), Version: 0},
		&zk.CheckVersionRequest{Path: "/m", Version: 1},
	)
	require.NoError(t, err, "c.Multi of two creates, a setData and a check")
	require.Len(t, res, 4)
	assert.Equal(t, "/m/1", res[1].String)

	// A failing op aborts the whole multi: nothing of it applies.
	_, err = c.Multi(
		&zk.DeleteRequest{Path: "/m/1", Version: -1},
		&zk.CheckVersionRequest{Path: "/m", Version: 7},
	)
	require.Error(t, err, "a multi with a failing check")
	ok, _, err := c.Exists("/m/1")
	require.NoError(t, err, `c.Exists("/m/1")`)
	assert.True(t, ok, "the delete in the failed multi must not apply")
	data, _, err := c.Get("/m")
	require.NoError(t, err, `c.Get("/m")`)
	assert.Equal(t, "b", string(data))
}

func testDigestACL(t *testing.T, e *Ensemble, addr string) {
	alice, _ := connect(t, []string{addr}, 4*time.Second)
	require.NoError(t, alice.AddAuth("digest", []byte("alice:secret")))
	_, err := alice.Create("/private", []byte("mine"), 0, zk.DigestACL(zk.PermAll, "alice", "secret"))
	require.NoError(t, err, `alice.Create("/private", ...)`)
	data, _, err := alice.Get("/private")
	require.NoError(t, err, `alice.Get("/private")`)
	assert.Equal(t, "mine", string(data))

	eve, _ := connect(t, []string{addr}, 4*time.Second)
	_, _, err = eve.Get("/private")
	assert.ErrorIs(t, err, zk.ErrNoAuth, "an unauthenticated read of a digest-protected node")
	_, err = eve.Set("/private", []byte("x"), -1)
	assert.ErrorIs(t, err, zk.ErrNoAuth)
	require.NoError(t, eve.AddAuth("digest", []byte("alice:wrong")))
	_, _, err = eve.Get("/private")
	assert.ErrorIs(t, err, zk.ErrNoAuth, "a wrong password grants nothing")

	bob, _ := connect(t, []string{addr}, 4*time.Second)
	require.NoError(t, bob.AddAuth("digest", []byte("alice:secret")))
	data, _, err = bob.Get("/private")
	require.NoError(t, err, "the right credentials on another session")
	assert.Equal(t, "mine", string(data))
}

// testSessionExpiry cuts a client off (through a proxy) for longer than its session
// timeout: the ensemble expires the session and deletes its ephemerals, and the client
// learns of it when it gets through again.
func testSessionExpiry(t *testing.T, e *Ensemble, addr string) {
	px := newProxy(t, addr)
	c, events := connect(t, []string{px.addr()}, 500*time.Millisecond)
	_, err := c.Create("/expiring", nil, zk.FlagEphemeral, open)
	require.NoError(t, err, `c.Create("/expiring", nil, zk.FlagEphemeral, open)`)
	px.cut(true)

	other, _ := connect(t, e.Addrs(), 4*time.Second)
	deadline := time.Now().Add(waitMax)
	for {
		ok, _, err := other.Exists("/expiring")
		require.NoError(t, err, `other.Exists("/expiring")`)
		if !ok {
			break
		}
		require.True(t, time.Now().Before(deadline), "the ephemeral of a session cut off for %v still exists", waitMax)
		time.Sleep(50 * time.Millisecond)
	}
	px.cut(false)
	for {
		select {
		case ev := <-events:
			if ev.State == zk.StateExpired {
				return
			}
		case <-time.After(waitMax):
			t.Fatalf("the client was not told its session expired within %v (state %v)", waitMax, c.State())
		}
	}
}

// proxy forwards TCP connections to a server and can cut them all and refuse new ones.
type proxy struct {
	t      *testing.T
	ln     net.Listener
	target string
	mu     sync.Mutex
	down   bool
	conns  []net.Conn
}

func newProxy(t *testing.T, target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err, `net.Listen("tcp", "127.0.0.1:0")`)
	p := &proxy{t: t, ln: ln, target: target}
	t.Cleanup(func() { ln.Close(); p.cut(true) })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			if p.down {
				p.mu.Unlock()
				c.Close()
				continue
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				p.mu.Unlock()
				c.Close()
				continue
			}
			p.conns = append(p.conns, c, s)
			p.mu.Unlock()
			go func() { io.Copy(s, c); s.Close() }()
			go func() { io.Copy(c, s); c.Close() }()
		}
	}()
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) cut(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
	if down {
		for _, c := range p.conns {
			c.Close()
		}
		p.conns = nil
	}
}
