package daemon

import (
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zabkit/zabkit/checker"
	"github.com/zabkit/zabkit/daemon/config"
	"github.com/zabkit/zabkit/zab/tree"
	"github.com/zabkit/zabkit/zab/wire"
)

// TestLeaderKilledMidLoad: clients write and read shared keys on a 3-server ensemble; the
// leader is killed in the middle and restarted later. Clients reconnect with their
// sessions, every acknowledged write is in the final state, and the recorded history
// passes every check of package checker (linearizability, session order, write zxids).
func TestLeaderKilledMidLoad(t *testing.T) {
	rec := newHistoryRecorder()
	// snapCount 100: members save snapshots in the background during the load, and the
	// restarted leader recovers from a snapshot plus its log.
	e := startEnsembleWith(t, EnsembleOptions{Servers: 3, Committed: rec.committed},
		func(c *config.Config) { c.SnapCount = 100 })
	keys := []string{"/k0", "/k1", "/k2"}
	addrs := e.Addrs()

	setup := &rawSession{addrs: addrs, timeoutMs: 4000}
	require.NoError(t, setup.connect(), "setup session")
	rec.established(0, setup)
	for _, k := range keys {
		_, err := rec.do(0, setup, checker.Request{Type: wire.OpCreate, Path: k, Data: []byte("init")},
			&wire.CreateRequest{Path: k, Data: []byte("init"), ACL: tree.OpenACL})
		require.NoError(t, err, "setup: create %s", k)
	}

	const clients = 4
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	acked := map[string]string{} // key -> a value whose setData was acknowledged last per client
	ackedCount := 0
	for c := 1; c <= clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := &rawSession{addrs: addrs, next: c, timeoutMs: 4000}
			for s.connect() != nil {
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond):
				}
			}
			rec.established(c, s)
			for i := 0; ; i++ {
				select {
				case <-stop:
					s.close()
					return
				default:
				}
				k := keys[(c+i)%len(keys)]
				var err error
				if i%2 == 0 {
					v := fmt.Sprintf("c%d-%d", c, i)
					var rep wire.Reply
					rep, err = rec.do(c, s, checker.Request{Type: wire.OpSetData, Path: k, Data: []byte(v), Version: -1},
						&wire.SetDataRequest{Path: k, Data: []byte(v), Version: -1})
					if err == nil && rep.Header.Err == wire.ErrOK {
						mu.Lock()
						acked[v] = k
						ackedCount++
						mu.Unlock()
					}
				} else {
					_, err = rec.do(c, s, checker.Request{Type: wire.OpGetData, Path: k}, &wire.GetDataRequest{Path: k})
				}
				for err != nil {
					select {
					case <-stop:
						return
					case <-time.After(20 * time.Millisecond):
					}
					err = s.connect()
					if errors.Is(err, errExpired) {
						t.Errorf("client %d: session %#x expired during a leader change", c, s.id)
						return
					}
				}
			}
		}()
	}

	leader := e.Leader()
	require.GreaterOrEqual(t, leader, 0, "no leader before the kill")
	// go-zookeeper clients connected to the leader first: the kill drops them, and they must
	// reconnect to another member with the same session and keep writing.
	pinned := startPinnedClients(t, e.Addrs(), leader, 2)
	time.Sleep(400 * time.Millisecond)
	e.Kill(leader)
	t.Logf("killed leader s%d", leader+1)
	time.Sleep(1200 * time.Millisecond)
	require.NoError(t, e.Restart(leader), "restarting the killed leader s%d", leader+1)
	time.Sleep(400 * time.Millisecond)
	pinned.waitWritingAgain(waitMax)
	close(stop)
	wg.Wait()
	pinnedAcked := pinned.stop(t)
	waitServing(t, e)
	mu.Lock()
	require.Greater(t, ackedCount, 20, "the load made too little progress to mean anything")
	mu.Unlock()

	// Final reads of every key from a fresh session on each member, after a sync.
	for i := range addrs {
		s := &rawSession{addrs: addrs[i : i+1], timeoutMs: 4000}
		require.NoError(t, s.connect(), "final session on member s%d", i+1)
		rec.established(10+i, s)
		for _, k := range keys {
			_, err := rec.do(10+i, s, checker.Request{Type: wire.OpSync, Path: k}, &wire.SyncRequest{Path: k})
			require.NoError(t, err, "final sync of %s on member s%d", k, i+1)
			rep, err := rec.do(10+i, s, checker.Request{Type: wire.OpGetData, Path: k}, &wire.GetDataRequest{Path: k})
			require.NoError(t, err, "final getData of %s on member s%d", k, i+1)
			require.Equal(t, wire.ErrOK, rep.Header.Err)
		}
		s.close()
	}

	for i := range addrs {
		snaps, err := filepath.Glob(filepath.Join(e.Config(i).DataDir, "snapshot.*"))
		require.NoError(t, err, "listing member s%d's snapshots", i+1)
		require.NotEmpty(t, snaps, "member %d saved no snapshot with snapCount=100", i+1)
	}
	// No acknowledged write lost: each acknowledged setData — the raw clients' and the pinned
	// go-zookeeper clients' — was applied by every member that was never killed. (Not the
	// union of all members' commits: the killed leader applies a txn, and answers it, before
	// the other members need have applied it.)
	mu.Lock()
	maps.Copy(acked, pinnedAcked)
	mu.Unlock()
	survivors := 0
	for m := range addrs {
		if m == leader {
			continue
		}
		survivors++
		applied := rec.setDataApplied(t, m)
		for v, k := range acked {
			assert.True(t, applied[v], "acknowledged setData %s=%q was not applied by member s%d, which was never killed", k, v, m+1)
		}
	}
	require.Equal(t, 2, survivors, "two members were never killed")
	h := rec.history(t, (leader+1)%len(addrs))
	unknown := 0
	for _, o := range h.Ops {
		if o.Unknown {
			unknown++
		}
	}
	require.Positive(t, unknown, "no request was cut off: the kill did not hit the load, so reconnection was not tested")
	r := checker.Check(h, checker.Config{Tree: nodeConfig(e.Config(0)).Tree})
	require.True(t, r.OK(), "checker found violations in %d ops, %d txns:\n%s", len(h.Ops), len(h.Committed), r.String())
	t.Logf("%d ops (%d acknowledged writes, %d cut off by the kill), %d committed txns: every check passed",
		len(h.Ops), ackedCount, unknown, len(h.Committed))
}

// leaderFirst is a go-zookeeper HostProvider that tries servers in its own order (zk.Connect
// shuffles the connect string before Init), so a client starts on the server named first.
type leaderFirst struct {
	servers []string
	next    int
}

func (p *leaderFirst) Init(shuffled []string) error {
	if len(shuffled) != len(p.servers) {
		return fmt.Errorf("leaderFirst: %d servers given, %d expected", len(shuffled), len(p.servers))
	}
	return nil
}
func (p *leaderFirst) Len() int   { return len(p.servers) }
func (p *leaderFirst) Connected() {}
func (p *leaderFirst) Next() (string, bool) {
	s := p.servers[p.next%len(p.servers)]
	p.next++
	return s, p.next%len(p.servers) == 0
}

// pinnedClients are go-zookeeper sessions that start on the leader and write until stopped.
type pinnedClients struct {
	stopCh chan struct{}
	wg     sync.WaitGroup
	mu     sync.Mutex
	acked  map[string]string // value -> path of each acknowledged setData
	conns  []*zk.Conn
	// before and after count each client's acknowledged writes before its first disconnect
	// and after it got a session back; sessions are the ids they held at the start.
	before, after []int
	sessions      []int64
	reconnected   []bool
}

func startPinnedClients(t *testing.T, addrs []string, leader, n int) *pinnedClients {
	t.Helper()
	order := append([]string{addrs[leader]}, append(append([]string{}, addrs[:leader]...), addrs[leader+1:]...)...)
	p := &pinnedClients{stopCh: make(chan struct{}), acked: map[string]string{},
		before: make([]int, n), after: make([]int, n), sessions: make([]int64, n), reconnected: make([]bool, n)}
	for i := range n {
		c, events, err := zk.Connect(order, 4*time.Second, zk.WithLogger(quietZK{}), zk.WithHostProvider(&leaderFirst{servers: order}))
		require.NoError(t, err, "pinned client %d: zk.Connect", i)
		t.Cleanup(c.Close)
		waitSession(t, events, fmt.Sprintf("pinned client %d", i))
		require.Equal(t, addrs[leader], c.Server(), "pinned client %d must start on the leader", i)
		p.conns = append(p.conns, c)
		p.sessions[i] = c.SessionID()
		path := fmt.Sprintf("/pinned%d", i)
		_, err = c.Create(path, nil, 0, zk.WorldACL(zk.PermAll))
		require.NoError(t, err, "pinned client %d: create %s", i, path)
		p.wg.Add(1)
		go p.run(i, c, events, path)
	}
	return p
}

func (p *pinnedClients) run(i int, c *zk.Conn, events <-chan zk.Event, path string) {
	defer p.wg.Done()
	disconnected := false
	for n := 0; ; n++ {
		select {
		case <-p.stopCh:
			return
		default:
		}
		for drained := false; !drained; {
			select {
			case ev := <-events:
				switch ev.State {
				case zk.StateDisconnected:
					disconnected = true
				case zk.StateHasSession:
					if disconnected {
						p.mu.Lock()
						p.reconnected[i] = true
						p.mu.Unlock()
					}
				}
			default:
				drained = true
			}
		}
		v := fmt.Sprintf("pinned%d-%d", i, n)
		if _, err := c.Set(path, []byte(v), -1); err != nil {
			time.Sleep(20 * time.Millisecond) // connection loss while it reconnects
			continue
		}
		p.mu.Lock()
		p.acked[v] = path
		if p.reconnected[i] {
			p.after[i]++
		} else if !disconnected {
			p.before[i]++
		}
		p.mu.Unlock()
	}
}

// waitWritingAgain waits, at most max, until every client got its session back and had a
// write acknowledged after that (go-zookeeper retries the servers about once a second).
func (p *pinnedClients) waitWritingAgain(max time.Duration) {
	deadline := time.Now().Add(max)
	for time.Now().Before(deadline) {
		p.mu.Lock()
		done := !slices.Contains(p.after, 0)
		p.mu.Unlock()
		if done {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop ends the load, checks each client reconnected with its session and wrote before and
// after, and returns the acknowledged writes.
func (p *pinnedClients) stop(t *testing.T) map[string]string {
	t.Helper()
	close(p.stopCh)
	p.wg.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, c := range p.conns {
		assert.True(t, p.reconnected[i], "pinned client %d: never lost and regained its session, so the kill did not test it", i)
		assert.Equal(t, p.sessions[i], c.SessionID(), "pinned client %d: must keep its session across the leader's kill", i)
		assert.Positive(t, p.before[i], "pinned client %d: no acknowledged write before the kill", i)
		assert.Positive(t, p.after[i], "pinned client %d: no acknowledged write after reconnecting", i)
		c.Close()
	}
	return p.acked
}

// waitSession waits for a go-zookeeper session.
func waitSession(t *testing.T, events <-chan zk.Event, who string) {
	t.Helper()
	deadline := time.After(waitMax)
	for {
		select {
		case ev := <-events:
			if ev.State == zk.StateHasSession {
				return
			}
		case <-deadline:
			t.Fatalf("%s: no session after %v", who, waitMax)
		}
	}
}
