package daemon

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zabkit/zabkit/daemon/config"
)

// send writes raw bytes to addr and returns everything the server sends before closing.
func send(t *testing.T, addr string, b []byte) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, waitMax)
	require.NoError(t, err, "dial %s", addr)
	defer c.Close()
	c.SetDeadline(time.Now().Add(waitMax))
	_, err = c.Write(b)
	require.NoError(t, err, "write %q to %s", b, addr)
	out, err := io.ReadAll(c)
	if len(out) == 0 && errors.Is(err, syscall.ECONNRESET) {
		return "" // refused or closed unanswered with our bytes unread: a reset
	}
	require.NoError(t, err, "the server must close the connection after answering")
	return string(out)
}

func TestFourLetterWords(t *testing.T) {
	e := startEnsemble(t, 3)
	c, _ := connect(t, e.Addrs()[:1], 4*time.Second)
	_, err := c.Create("/4lw", nil, 0, open)
	require.NoError(t, err, "create /4lw")
	_, _, _, err = c.GetW("/4lw")
	require.NoError(t, err, "getData /4lw with a watch")
	_, _, _, err = c.ChildrenW("/")
	require.NoError(t, err, "getChildren / with a watch (a child watch: not in the data-watch table)")
	addr := e.Addrs()[0]
	leaderAddr := e.Addrs()[e.Leader()]
	followerAddr := e.Addrs()[(e.Leader()+1)%3]

	for _, tc := range []struct {
		word, addr string
		match      string // a regexp the whole output must match
	}{
		{"ruok", addr, `^imok$`},
		{"isro", addr, `^rw$`},
		{"srvr", addr, `^Zookeeper version: 3\.8\.0-zabkit, built on \d{4}-\d\d-\d\d \d\d:\d\d UTC\n` +
			`Latency min/avg/max: \d+/\d+\.\d+/\d+\nReceived: \d+\nSent: \d+\nConnections: \d+\nOutstanding: \d+\n` +
			`Zxid: 0x[0-9a-f]+\nMode: (leader|follower)\nNode count: \d+\n$`},
		{"srvr", leaderAddr, `(?s)\nMode: leader\n`},
		{"stat", addr, `(?s)^Zookeeper version: .*\nClients:\n( /127\.0\.0\.1:\d+\[1\]\(queued=\d+,recved=\d+,sent=\d+\)\n)+\nLatency min/avg/max: .*Node count: \d+\n$`},
		{"cons", addr, `(?s) /127\.0\.0\.1:\d+\[1\]\(queued=\d+,recved=\d+,sent=\d+,sid=0x[0-9a-f]+,lop=[A-Z]+,est=\d+,to=\d+,lcxid=0x[0-9a-f]+,lzxid=0x[0-9a-f]+,lresp=\d+,llat=\d+,minlat=\d+,avglat=\d+,maxlat=\d+\)\n`},
		// The one session's getData watch on /4lw is the data-watch table; its child watch
		// on / is not in it (Apache 3.8.0's WatchCommand reads dataWatches only).
		{"wchs", addr, `^1 connections watching 1 paths\nTotal watches:1\n$`},
		{"wchc", addr, `^0x[0-9a-f]+\n\t/4lw\n\n$`},
		{"wchp", addr, `^/4lw\n\t0x[0-9a-f]+\n\n$`},
		{"mntr", addr, `(?s)^zk_version\t3\.8\.0-zabkit.*\nzk_server_state\t(leader|follower)\n.*zk_znode_count\t\d+\n.*zk_quorum_size\t3\n`},
		{"mntr", addr, `(?s)\nzk_ephemerals_count\t\d+\nzk_approximate_data_size\t[1-9]\d*\n.*\nzk_open_file_descriptor_count\t[1-9]\d*\nzk_max_file_descriptor_count\t[1-9]\d*\n`},
		{"mntr", leaderAddr, `(?s)\nzk_server_state\tleader\n.*\nzk_learners\t2\nzk_synced_followers\t2\nzk_synced_non_voting_followers\t0\nzk_synced_observers\t0\nzk_pending_syncs\t0\n$`},
		{"conf", addr, `(?s)clientPort=\d+\n.*tickTime=100\n.*serverId=1\n.*membership: \nserver\.1=127\.0\.0\.1:\d+:\d+:participant;127\.0\.0\.1:\d+\n`},
		{"envi", addr, `(?s)^Environment:\nzookeeper\.version=3\.8\.0-zabkit.*\nhost\.name=`},
		// A learner's tracker lists the global sessions (Apache 3.8.0's LearnerSessionTracker),
		// the leader's keeps expiry sets.
		{"dump", followerAddr, `(?s)^SessionTracker dump:\nGlobal Sessions\(1\):\n0x[0-9a-f]+\t\d+ms\nephemeral nodes dump:\n`},
		{"dump", leaderAddr, `(?s)^SessionTracker dump:\nSession Sets \(\d+\)/\(1\):\n.*ephemeral nodes dump:\n`},
	} {
		out := send(t, tc.addr, []byte(tc.word+"\n"))
		assert.Regexp(t, regexp.MustCompile(tc.match), out, "output of %s", tc.word)
	}
}

func TestFourLetterWhitelist(t *testing.T) {
	e := startEnsemble(t, 1, func(c *config.Config) { c.FourLetterWords = []string{"srvr"} })
	addr := e.Addrs()[0]
	assert.Equal(t, "ruok is not executed because it is not in the whitelist.\n", send(t, addr, []byte("ruok")))
	assert.Contains(t, send(t, addr, []byte("srvr")), "Mode: standalone\n", "srvr is always enabled")
	assert.Equal(t, "", send(t, addr, []byte("xyzw")), "an unknown word is an oversized frame: closed unanswered")
}

// A malformed or oversized packet closes that connection only: the server and its other
// clients carry on.
func TestBadFramesCloseOnlyTheirConnection(t *testing.T) {
	e := startEnsemble(t, 1)
	addr := e.Addrs()[0]
	c, _ := connect(t, []string{addr}, 4*time.Second)
	_, err := c.Create("/alive", nil, 0, open)
	require.NoError(t, err, "create /alive")

	oversized := binary.BigEndian.AppendUint32(nil, 0xfffff+1)
	assert.Equal(t, "", send(t, addr, append(oversized, 1, 2, 3)), "a frame above jute.maxbuffer")
	negative := binary.BigEndian.AppendUint32(nil, 0xffffff00)
	assert.Equal(t, "", send(t, addr, negative), "a negative frame length")
	garbage := append(binary.BigEndian.AppendUint32(nil, 7), "garbage"...)
	assert.Equal(t, "", send(t, addr, garbage), "a connect request that does not decode")

	_, err = c.Set("/alive", []byte("still"), -1)
	require.NoError(t, err, "the good client must be unaffected")
	assert.Equal(t, "imok", send(t, addr, []byte("ruok")))
}

func TestMaxClientConnectionsPerIP(t *testing.T) {
	e := startEnsemble(t, 1, func(c *config.Config) { c.MaxClientCnxns = 2 })
	addr := e.Addrs()[0]
	var held []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", addr)
		require.NoError(t, err, "connection %d of maxClientCnxns=2 to %s", len(held)+1, addr)
		held = append(held, c)
		defer c.Close()
	}
	// The third connection from 127.0.0.1 is closed at once.
	time.Sleep(50 * time.Millisecond)
	assert.Equal(t, "", send(t, addr, []byte("ruok")), "a connection beyond maxClientCnxns")
	held[0].Close()
	deadline := time.Now().Add(waitMax)
	for send(t, addr, []byte("ruok")) != "imok" {
		require.True(t, time.Now().Before(deadline), "a slot freed by a closed connection was never reused")
		time.Sleep(20 * time.Millisecond)
	}
}

func TestPrometheusMetrics(t *testing.T) {
	e := startEnsemble(t, 1, func(c *config.Config) { c.MetricsAddr = "127.0.0.1:0" })
	c, _ := connect(t, e.Addrs(), 4*time.Second)
	_, err := c.Create("/m", nil, 0, open)
	require.NoError(t, err, "create /m")
	resp, err := http.Get("http://" + e.Servers[0].MetricsAddr().String() + "/metrics")
	require.NoError(t, err, "GET the Prometheus /metrics endpoint")
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err, "read the /metrics body")
	text := string(body)
	for _, want := range []string{"\nznode_count ", "\nnum_alive_connections 1\n", "\nserving 1\n",
		"zabkit_committed_txns_total", "zabkit_request_latency_seconds_bucket{op=\"CREA\"", "\npackets_received "} {
		assert.True(t, strings.Contains(text, want), "metrics lack %q:\n%s", want, text)
	}
}

// The administrative words answer in Apache ZooKeeper 3.8.0's formats (conformance's
// TestFourLetterWordsAgree compares them with Apache's): dump lists the sessions, their
// ephemerals and the connections, crst and srst reset what cons and srvr count.
func TestAdministrativeFourLetterWords(t *testing.T) {
	e := startEnsemble(t, 1)
	addr := e.Addrs()[0]
	c, _ := connect(t, []string{addr}, 4*time.Second)
	_, err := c.Create("/eph", nil, zk.FlagEphemeral, open)
	require.NoError(t, err, "create the ephemeral /eph")
	for range 10 {
		_, _, err = c.Get("/eph")
		require.NoError(t, err, "getData /eph")
	}
	sid := fmt.Sprintf("0x%x", c.SessionID())

	assert.Equal(t, "306", send(t, addr, []byte("gtmk")), "gtmk: ZooTrace's default mask, no line end")
	assert.Regexp(t, `^datadir_size: \d+\nlogdir_size: \d+\n$`, send(t, addr, []byte("dirs")))
	date := `[A-Z][a-z]{2} [A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d \S+ \d{4}`
	assert.Regexp(t, regexp.MustCompile(`^SessionTracker dump:\nSession Sets \(1\)/\(1\):\n1 expire at `+date+`:\n\t`+sid+`\n`+
		`ephemeral nodes dump:\nSessions with Ephemerals \(1\):\n`+sid+`:\n\t/eph\n`+
		`Connections dump:\nConnections Sets \(\d+\)/\(\d+\):\n(\d+ expire at `+date+`:\n(\tip: /127\.0\.0\.1:\d+ sessionId: 0x[0-9a-f]+\n)+)+$`),
		send(t, addr, []byte("dump")), "dump with one session holding /eph (session %s)", sid)

	sessionLine := regexp.MustCompile(`sid=` + sid + `,[^\n]*`)
	before := sessionLine.FindString(send(t, addr, []byte("cons")))
	assert.Contains(t, before, "lop=GETD", "cons before crst")
	assert.Equal(t, "Connection stats reset.\n", send(t, addr, []byte("crst")))
	after := sessionLine.FindString(send(t, addr, []byte("cons")))
	assert.Regexp(t, `^sid=`+sid+`,lop=(NA|PING),est=\d+,to=\d+,(lcxid=0x[0-9a-f]+,)?lzxid=0x[0-9a-f]+,lresp=\d+,`, after,
		"cons after crst (before: %s)", before)
	if strings.Contains(after, "lop=NA") {
		assert.Contains(t, after, ",lzxid=0xffffffffffffffff,lresp=0,llat=0,minlat=0,avglat=0,maxlat=0)",
			"a connection without a request since crst prints ServerCnxn.resetStats' values")
	}

	received := regexp.MustCompile(`\nReceived: (\d+)\n`)
	count := func() int {
		m := received.FindStringSubmatch(send(t, addr, []byte("srvr")))
		require.NotNil(t, m, "srvr has a Received line")
		n, err := strconv.Atoi(m[1])
		require.NoError(t, err, "srvr's Received %q is a number", m[1])
		return n
	}
	require.GreaterOrEqual(t, count(), 12, "handshake, create and 10 reads were received")
	assert.Equal(t, "Server stats reset.\n", send(t, addr, []byte("srst")))
	assert.LessOrEqual(t, count(), 1, "after srst only a ping can have been received")
}
