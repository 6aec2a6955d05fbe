package wire

import (
	_ "embed"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestGoZKRequestFrames checks the codec against go-zookeeper/zk v1.0.4's own encoder: the
// payloads in testdata/gozk_requests.txt were captured by conformance/testdata/gozkcapture (kept outside the core: it uses net and goroutines), which drives a
// real zk.Conn against a loopback listener answering with this package's encoder (go-zk
// decoded every one of those replies, the failed-multi shape of §10.3 and a watch
// notification included). Each payload must decode to the request the capture program asked
// for, and re-encode to the very same bytes.
func TestGoZKRequestFrames(t *testing.T) {
	payloads := readCapture(t, gozkRequests)

	connect, err := DecodeConnectRequest(payloads[0])
	require.NoError(t, err)
	require.Equal(t, ConnectRequest{TimeoutMs: 30000, Passwd: zeroPasswd}, connect,
		"go-zk sends the 44-byte ConnectRequest, without the readOnly byte")
	require.Len(t, payloads[0], 44)
	require.Equal(t, payloads[0], AppendConnectRequest(nil, &connect)[frameLengthBytes:])

	world := []ACL{{Perms: PermAll, ID: Id{Scheme: "world", ID: "anyone"}}}
	want := []Request{
		{RequestHeader{1, OpAuth}, &AuthPacket{Scheme: "digest", Auth: []byte("user:secret")}}, // go-zk: ordinary xid
		{RequestHeader{2, OpCreate}, &CreateRequest{Path: "/a", Data: []byte("data"), ACL: world}},
		{RequestHeader{3, OpCreate}, &CreateRequest{Path: "/a/e-", Data: nil, ACL: world, Flags: ModeEphemeralSequential}}, // nil data goes out as a null buffer
		{RequestHeader{4, OpCreateContainer}, &CreateRequest{Path: "/c", Data: []byte{}, ACL: world, Flags: ModeContainer}},
		{RequestHeader{5, OpCreateTTL}, &CreateTTLRequest{Path: "/t", Data: []byte("x"), ACL: world, Flags: ModePersistentWithTTL, TTLMs: 90000}},
		{RequestHeader{6, OpGetData}, &GetDataRequest{Path: "/a"}},
		{RequestHeader{7, OpGetData}, &GetDataRequest{Path: "/a", Watch: true}},
		{RequestHeader{8, OpSetData}, &SetDataRequest{Path: "/a", Data: []byte("new"), Version: 1}},
		{RequestHeader{9, OpExists}, &ExistsRequest{Path: "/a"}},
		{RequestHeader{10, OpExists}, &ExistsRequest{Path: "/missing"}},
		{RequestHeader{11, OpGetChildren2}, &GetChildren2Request{Path: "/a"}}, // go-zk's Children uses getChildren2
		{RequestHeader{12, OpGetACL}, &GetACLRequest{Path: "/a"}},
		{RequestHeader{13, OpSetACL}, &SetACLRequest{Path: "/a", Version: -1,
			ACL: []ACL{{Perms: PermRead, ID: Id{Scheme: "digest", ID: "user:5w9W4eL3797Y4Wq8AcKUPPk8ha4="}}}}},
		{RequestHeader{14, OpSync}, &SyncRequest{Path: "/a"}},
		{RequestHeader{15, OpMulti}, &MultiRequest{Ops: []MultiOp{
			{OpCreate, &CreateRequest{Path: "/m", Data: []byte("1"), ACL: world}},
			{OpSetData, &SetDataRequest{Path: "/m", Data: []byte("2"), Version: -1}},
			{OpCheck, &CheckVersionRequest{Path: "/m", Version: 1}},
			{OpDelete, &DeleteRequest{Path: "/m", Version: 1}},
		}}},
		{RequestHeader{16, OpMulti}, &MultiRequest{Ops: []MultiOp{
			{OpCreate, &CreateRequest{Path: "/x", ACL: world}},
			{OpDelete, &DeleteRequest{Path: "/missing", Version: -1}},
			{OpSetData, &SetDataRequest{Path: "/y", Data: []byte("z"), Version: -1}},
		}}},
		{RequestHeader{17, OpDelete}, &DeleteRequest{Path: "/a", Version: -1}},
		{RequestHeader{18, OpCloseSession}, nil},
	}
	require.Len(t, payloads, 1+len(want), "captured frames")
	for i, w := range want {
		payload := payloads[i+1]
		got, err := DecodeRequest(payload)
		require.NoError(t, err, "go-zk frame %d (%x)", i+1, payload)
		require.Equal(t, w, got, "go-zk frame %d (%x)", i+1, payload)
		require.Equal(t, payload, AppendRequest(nil, w.Header, w.Body)[frameLengthBytes:],
			"re-encoding go-zk frame %d must give go-zk's bytes", i+1)
	}
}

// gozkRequests holds one "NN hex" line per captured request payload.
//
//go:embed testdata/gozk_requests.txt
var gozkRequests string

// readCapture parses "NN hex" lines.
func readCapture(t *testing.T, text string) [][]byte {
	t.Helper()
	var out [][]byte
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		fields := strings.Fields(line)
		require.Len(t, fields, 2, "capture line %q", line)
		b, err := hex.DecodeString(fields[1])
		require.NoError(t, err, "capture line %q", line)
		out = append(out, b)
	}
	return out
}
