package daemon

import (
	"bufio"
	"fmt"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"

	"github.com/zabkit/zabkit/daemon/config"
	"github.com/zabkit/zabkit/zab/wire"
)

// rawClient is a ZooKeeper client made of raw frames on one TCP connection: it pipelines as
// deep as it likes, which go-zookeeper does not.
type rawClient struct {
	t    *testing.T
	nc   net.Conn
	fr   *wire.FrameReader
	name string
}

// dialRaw connects to addr and completes the handshake (a new session of timeoutMs).
func dialRaw(t *testing.T, addr, name string, timeoutMs int32) *rawClient {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, waitMax)
	require.NoError(t, err, "%s: dial %s", name, addr)
	t.Cleanup(func() { nc.Close() })
	c := &rawClient{t: t, nc: nc, fr: wire.NewFrameReader(bufio.NewReader(nc), wire.FrameBytesMaxDefault), name: name}
	_, err = nc.Write(wire.AppendConnectRequest(nil, &wire.ConnectRequest{TimeoutMs: timeoutMs, Passwd: make([]byte, 16)}))
	require.NoError(t, err, "%s: send the ConnectRequest", name)
	nc.SetReadDeadline(time.Now().Add(waitMax))
	payload, err := c.fr.Next()
	require.NoError(t, err, "%s: read the ConnectResponse", name)
	resp, err := wire.DecodeConnectResponse(payload)
	require.NoError(t, err, "%s: decode the ConnectResponse", name)
	require.NotZero(t, resp.SessionID, "%s: the server must give a session", name)
	return c
}

// pipelineCreates writes n create requests (xids 1..n, paths prefix+xid) without waiting,
// from a goroutine (the server stops reading when it throttles, so the writes block until
// replies are read), and reads the n replies: each must come in request order and succeed.
// It returns the first failure, or nil.
func (c *rawClient) pipelineCreates(prefix string, n int) error {
	var frames []byte
	for xid := 1; xid <= n; xid++ {
		frames = wire.AppendRequest(frames, wire.RequestHeader{Xid: int32(xid), Type: wire.OpCreate},
			&wire.CreateRequest{Path: prefix + strconv.Itoa(xid), Data: []byte("v"), ACL: worldAnyone})
	}
	writeErr := make(chan error, 1)
	go func() {
		c.nc.SetWriteDeadline(time.Now().Add(waitMax))
		_, err := c.nc.Write(frames)
		writeErr <- err
	}()
	for xid := 1; xid <= n; xid++ {
		c.nc.SetReadDeadline(time.Now().Add(waitMax))
		payload, err := c.fr.Next()
		if err != nil {
			return fmt.Errorf("%s: reply %d of %d: read failed (the server closed the connection?): %w", c.name, xid, n, err)
		}
		r, err := wire.DecodeReply(payload, wire.OpCreate)
		if err != nil {
			return fmt.Errorf("%s: reply %d of %d does not decode: %w", c.name, xid, n, err)
		}
		if r.Header.Xid != int32(xid) || r.Header.Err != wire.ErrOK {
			return fmt.Errorf("%s: reply %d of %d: want xid %d ErrOK, got xid %d err %v", c.name, xid, n, xid, r.Header.Xid, r.Header.Err)
		}
	}
	if err := <-writeErr; err != nil {
		return fmt.Errorf("%s: writing the pipeline: %w", c.name, err)
	}
	return nil
}

// stillOpen checks the connection still serves: a ping gets its reply.
func (c *rawClient) stillOpen() error {
	if _, err := c.nc.Write(wire.AppendRequest(nil, wire.RequestHeader{Xid: wire.XidPing, Type: wire.OpPing}, nil)); err != nil {
		return fmt.Errorf("%s: ping after the pipeline: %w", c.name, err)
	}
	c.nc.SetReadDeadline(time.Now().Add(waitMax))
	payload, err := c.fr.Next()
	if err != nil {
		return fmt.Errorf("%s: no ping reply after the pipeline (connection closed?): %w", c.name, err)
	}
	r, err := wire.DecodeReply(payload, wire.OpPing)
	if err != nil || r.Header.Xid != wire.XidPing {
		return fmt.Errorf("%s: want the ping reply, got %+v (err %v)", c.name, r.Header, err)
	}
	return nil
}

var worldAnyone = []wire.ACL{{Perms: wire.PermAll, ID: wire.Id{Scheme: "world", ID: "anyone"}}}

// TestDeepPipelineIsThrottledNotClosed: a client that pipelines far more requests than the
// node queues per connection (RequestsPerConnectionMax 1000) or the leader has in flight
// (ProposalsInFlightMax 500) is throttled — the server stops reading its socket until replies
// catch up, as ZooKeeper does — and gets every reply, in order, on a connection that stays
// open. Before the read flow control, 3000 creates got 914 replies and then EOF.
func TestDeepPipelineIsThrottledNotClosed(t *testing.T) {
	const depth = 5000
	for _, tc := range []struct {
		name    string
		servers int
		clients int // one per member, round robin, each pipelining depth creates at once
	}{
		{"standalone", 1, 1},
		{"ensemble, one client per member", 3, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// 500 ms ticks: a forwarded request with no answer for 10 ticks closes its
			// connection, and under -race on a loaded 2-core machine the leader may take more
			// than fastTicks' 1 s to clear the followers' 1000 queued creates.
			e := startEnsemble(t, tc.servers, func(c *config.Config) { c.TickMillis = 500 })
			var clients []*rawClient
			for i := range tc.clients {
				clients = append(clients, dialRaw(t, e.Servers[i%tc.servers].ClientAddr().String(), fmt.Sprintf("client %d on member %d", i, i%tc.servers), 4000))
			}
			errs := make([]error, len(clients))
			var wg sync.WaitGroup
			for i, c := range clients {
				wg.Go(func() {
					if errs[i] = c.pipelineCreates(fmt.Sprintf("/p%d-", i), depth); errs[i] == nil {
						errs[i] = c.stillOpen()
					}
				})
			}
			wg.Wait()
			for _, err := range errs {
				require.NoError(t, err, "every one of %d pipelined creates is answered in order and the connection stays open", depth)
			}
			var throttled float64
			for _, s := range e.Servers {
				throttled += counterValue(s.metrics.readsThrottled)
			}
			require.Positive(t, throttled, "the pipeline must have been throttled, or this test tests nothing")
			for i, s := range e.Servers {
				require.Zero(t, s.requestsInFlight.Load(), "member %d: every request was answered, so none may count as in flight", i+1)
			}
		})
	}
}

// counterValue reads a Prometheus counter.
func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		panic(err)
	}
	return m.GetCounter().GetValue()
}
