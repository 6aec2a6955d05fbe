package conformance

import (
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zabkit/zabkit/zab/wire"
)

// startOwnApache starts a standalone Apache ZooKeeper for one test and stops it when the test
// ends, passed or failed.
func startOwnApache(t *testing.T) *Server {
	t.Helper()
	inst := apacheInstall(t)
	srv, err := StartApache(inst, DefaultSettings, t.TempDir())
	require.NoError(t, err)
	t.Cleanup(srv.Stop)
	return srv
}

// openSession opens a raw session on addr or fails the test.
func openSession(t *testing.T, addr string) *Conn {
	t.Helper()
	c, hs := Dial(addr, wire.ConnectRequest{TimeoutMs: 30000, Passwd: make([]byte, 16), HasReadOnly: true})
	require.Equal(t, Replied, hs.Outcome, "handshake with %s: %v", addr, hs.Err)
	require.NotZero(t, hs.Response.SessionID, "handshake with %s gave an invalid session", addr)
	t.Cleanup(c.Close)
	return c
}

// call sends one request with xid and returns the reply, failing the test on anything else.
func call(t *testing.T, c *Conn, xid int32, op wire.OpCode, body wire.Record) wire.Reply {
	t.Helper()
	ex := c.Call(xid, op, wire.AppendRequest(nil, wire.RequestHeader{Xid: xid, Type: op}, body))
	require.Equal(t, Replied, ex.Outcome, "op %s: %v", opName(op), ex.Err)
	return ex.Reply
}

// TestApacheStandaloneRunsWithTheSharedSettings starts Apache ZooKeeper as the harness does and
// checks that every shared setting took effect, then that Stop leaves nothing listening.
func TestApacheStandaloneRunsWithTheSharedSettings(t *testing.T) {
	srv := startOwnApache(t)

	conf, err := FourLetterWord(srv.Addr, "conf", 5*time.Second)
	require.NoError(t, err)
	for _, want := range []string{"tickTime=500", "minSessionTimeout=1000", "maxSessionTimeout=60000"} {
		assert.Contains(t, conf, want+"\n", "conf of the generated zoo.cfg")
	}
	envi, err := FourLetterWord(srv.Addr, "envi", 5*time.Second)
	require.NoError(t, err)
	assert.Contains(t, envi, "zookeeper.version=3.8.", "the Debian package is ZooKeeper 3.8")

	c := openSession(t, srv.Addr)
	// Extended types: a TTL node can be created (Unimplemented otherwise, §4.5).
	rep := call(t, c, 1, wire.OpCreateTTL, &wire.CreateTTLRequest{Path: "/ttl", ACL: ACLs["open"],
		Flags: wire.ModePersistentWithTTL, TTLMs: 60000})
	assert.Equal(t, wire.ErrOK, rep.Header.Err, "createTTL with extendedTypesEnabled")
	// superDigest: authenticating as super:test adds the super id (§9.5).
	rep = call(t, c, wire.XidAuth, wire.OpAuth, &wire.AuthPacket{Scheme: "digest", Auth: []byte("super:" + SuperPassword)})
	assert.Equal(t, wire.ErrOK, rep.Header.Err, "auth super")
	rep = call(t, c, 2, wire.OpWhoAmI, nil)
	require.Equal(t, wire.ErrOK, rep.Header.Err)
	var ids []string
	for _, ci := range rep.Body.(*wire.WhoAmIResponse).ClientInfo {
		ids = append(ids, ci.AuthScheme+":"+ci.User)
	}
	assert.Contains(t, ids, "super:", "whoAmI after auth with the superDigest password")
	// minSessionTimeout 1000: a 500 ms request is raised to 1000.
	_, hs := Dial(srv.Addr, wire.ConnectRequest{TimeoutMs: 500, Passwd: make([]byte, 16)})
	assert.Equal(t, int32(1000), hs.Response.TimeoutMs, "negotiated timeout of a 500 ms request")

	srv.Stop()
	assert.True(t, srv.Exited(), "the JVM is gone after Stop")
	_, err = net.DialTimeout("tcp", srv.Addr, time.Second)
	assert.Error(t, err, "nothing listens on %s after Stop", srv.Addr)
}
