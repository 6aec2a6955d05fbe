package conformance

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/zabkit/zabkit/zab/wire"
)

// TestTranscripts pins down, as canonical transcript lines, what Apache ZooKeeper 3.8.0 (the
// Debian package) answers in the corners the differential generator reaches only by chance,
// and what zk-protocol.md §15 lists as not yet observed on a live server. Each case runs on
// target A and on target B, so pointed at zabd it is also a readable spec of the expected
// exchanges. want holds substrings of the case's lines, in order.
func TestTranscripts(t *testing.T) {
	a, b := targets(t)
	connect := Step{Session: 0, Kind: StepConnect, TimeoutMs: 60000, ReadOnlyByte: true}
	req := func(op wire.OpCode, path string) Step { return Step{Kind: StepRequest, Op: op, Path: path} }
	createA := Step{Kind: StepRequest, Op: wire.OpCreate, Path: "~/a", ACL: "open", Text: "x"}
	tests := []struct {
		name  string
		steps []Step
		want  []string
	}{
		{"create then read: czxid = mzxid = pzxid, the parent's cversion and pzxid move",
			[]Step{connect, createA, req(wire.OpGetChildren2, "~"), req(wire.OpGetData, "~/a")},
			[]string{`path="~/a"`,
				`children=["a"] stat={czxid=z0 mzxid=z0 pzxid=z1 ctime=t0 mtime=t0 version=0 cversion=1 aversion=0 owner=0 dataLength=6 numChildren=1}`,
				`data="x" stat={czxid=z1 mzxid=z1 pzxid=z1 ctime=t1 mtime=t1 version=0 cversion=0 aversion=0 owner=0 dataLength=1 numChildren=0}`}},
		{"system nodes: /zookeeper cversion -2, /zookeeper/config aversion -1 and world:anyone READ",
			[]Step{connect, req(wire.OpGetChildren2, "/zookeeper"), req(wire.OpGetACL, "/zookeeper/config"),
				{Kind: StepRequest, Op: wire.OpCreate, Path: "/", ACL: "open"}, req(wire.OpCreate, "/")},
			[]string{`children=["config" "quota"] stat={czxid=0 mzxid=0 pzxid=0 ctime=0 mtime=0 version=0 cversion=-2 aversion=0 owner=0 dataLength=0 numChildren=2}`,
				`acl=[1:world:anyone] stat={czxid=0 mzxid=0 pzxid=0 ctime=0 mtime=0 version=0 cversion=0 aversion=-1`,
				`create "/" data="" acl=open flags=0 → replied err=NodeExists(-110)`,
				`create "/" data="" acl= flags=0 → replied err=InvalidACL(-114)`}},
		{"data at the frame limit is stored, one byte more closes the connection without a reply",
			[]Step{connect, createA,
				{Kind: StepRequest, Op: wire.OpSetData, Path: "~/a", Data: DataAtLimit, Version: -1},
				{Kind: StepRequest, Op: wire.OpSetData, Path: "~/a", Data: DataPastLimit, Version: -1},
				req(wire.OpExists, "~/a")},
			[]string{`version=1 cversion=0 aversion=0 owner=0 dataLength=1048528`, `<max-frame+1> version=-1 → closed-without-reply`,
				`exists "~/a" watch=false → not-connected`}},
		{"check (13) outside multi: NoNode when missing, BadVersion, no reply at all when it passes",
			[]Step{connect, {Kind: StepRaw, Op: wire.OpCheck, Path: "~/zz", Version: -1}, createA,
				{Kind: StepRaw, Op: wire.OpCheck, Path: "~/a", Version: 5},
				{Kind: StepRaw, Op: wire.OpCheck, Path: "~/a", Version: -1}},
			[]string{`raw-op 13 "~/zz" → replied err=NoNode(-101)`, `connection stays open`,
				`raw-op 13 "~/a" → replied err=BadVersion(-103)`, `raw-op 13 "~/a" → no-reply`}},
		{"internal and unknown op codes",
			[]Step{connect, {Kind: StepRaw, Op: wire.OpDeleteContainer, Path: "~"}, {Kind: StepRaw, Op: 200, Path: "~"}},
			[]string{`raw-op 20 "~" → replied err=BadArguments(-8)`, `connection stays open`,
				`raw-op 200 "~" → replied err=Unimplemented(-6) zxid=-1`, `server closed the connection`}},
		{"reconfig is disabled, SASL answers an empty token",
			[]Step{connect, {Kind: StepRequest, Op: wire.OpReconfig}, {Kind: StepRequest, Op: wire.OpSASL}},
			[]string{`err=ReconfigDisabled(-123)`, `sasl "" → replied err=OK(0) zxid=0 token=null`, `connection stays open`}},
		{"paths Java decodes to forbidden characters: a non-BMP rune, a byte that is not UTF-8",
			[]Step{connect, {Kind: StepRequest, Op: wire.OpCreate, Path: "~/😀", ACL: "open"},
				{Kind: StepRequest, Op: wire.OpCreate, Path: "~/\xff", ACL: "open"},
				{Kind: StepRequest, Op: wire.OpSync, Path: "~/\xff"}},
			[]string{`err=BadArguments(-8)`, `err=BadArguments(-8)`, `sync "~/\xff" → replied err=OK(0) zxid=z0 path="~/` + "\uFFFD" + `"`}},
		{"auth ACL becomes the digest id; whoAmI lists digest before ip",
			[]Step{connect, {Kind: StepRequest, Op: wire.OpAuth, Auth: "digest:bob:secret"},
				{Kind: StepRequest, Op: wire.OpCreate, Path: "~/c", ACL: "creator"}, req(wire.OpGetACL, "~/c"),
				{Kind: StepRequest, Op: wire.OpWhoAmI}},
			[]string{`auth "digest:bob:secret" normalXid=false → replied err=OK(0) zxid=0`, `path="~/c"`,
				`acl=[31:digest:bob:fyVmFCwVbTJYrznoSu1koqYEYF0=]`, `ids=[digest:bob ip:127.0.0.1]`}},
		{"auth ids come in Java's hash-set order: whoAmI, and the digest ids of an auth ACL",
			[]Step{connect, {Kind: StepRequest, Op: wire.OpAuth, Auth: "digest:bob:secret"},
				{Kind: StepRequest, Op: wire.OpAuth, Auth: "digest:alice:pw"},
				{Kind: StepRequest, Op: wire.OpCreate, Path: "~/c", ACL: "creator"}, req(wire.OpGetACL, "~/c"),
				{Kind: StepRequest, Op: wire.OpWhoAmI}},
			[]string{`acl=[31:digest:bob:fyVmFCwVbTJYrznoSu1koqYEYF0= 31:digest:alice:V55/p2T0OpjQ+low3NVAH4aLvm0=]`,
				`ids=[digest:bob ip:127.0.0.1 digest:alice]`}},
		{"resume with lastZxidSeen ahead of the server: closed without reply, the old connection lives",
			[]Step{connect, createA, {Kind: StepReconnect, FutureZxid: true}, req(wire.OpExists, "~/a")},
			[]string{`reconnect lastZxidSeen-ahead → closed-without-reply`, `previous connection, after the failed resume → connection stays open`,
				`exists "~/a" watch=false → replied err=OK(0)`}},
		{"resume with a wrong password: invalid session, and the live connection is closed too",
			[]Step{connect, {Kind: StepReconnect, BadPassword: true}, req(wire.OpExists, "~")},
			[]string{`timeout=0 session=0 passwd=16B(zeros)`, `after an invalid-session response → server closed the connection`,
				`previous connection, after the failed resume → server closed the connection`, `not-connected`}},
		{"empty multi and multiRead succeed with no results",
			[]Step{connect, {Kind: StepRequest, Op: wire.OpMulti}, {Kind: StepRequest, Op: wire.OpMultiRead}},
			[]string{`multi [] → replied err=OK(0) zxid=z0 results=[]`, `multiRead [] → replied err=OK(0) zxid=z0 results=[]`}},
		{"a failed multi: header OK, rolled-back ops OK, the failure, then RuntimeInconsistency",
			[]Step{connect, {Kind: StepRequest, Op: wire.OpMulti, Sub: []Step{
				{Op: wire.OpCreate, Path: "~/m", ACL: "open"}, {Op: wire.OpDelete, Path: "~/zz", Version: -1},
				{Op: wire.OpSetData, Path: "~/m", Version: -1}}}, req(wire.OpExists, "~/m")},
			[]string{`replied err=OK(0) zxid=z0 results=[error OK(0); error NoNode(-101); error RuntimeInconsistency(-2)]`,
				`exists "~/m" watch=false → replied err=NoNode(-101)`}},
		{"multi: a create2 (15) sub-op gets a create (1) result, path only; createContainer (19) a create2 result (3.8.0)",
			[]Step{connect, {Kind: StepRequest, Op: wire.OpMulti, Sub: []Step{
				{Op: wire.OpCreate2, Path: "~/m", ACL: "open"}, {Op: wire.OpCreateContainer, Path: "~/n", ACL: "open", Flags: wire.ModeContainer}}}},
			[]string{`results=[create path="~/m"; create2 path="~/n" stat={czxid=z1 mzxid=z1 pzxid=z1`}},
		{"multi: a create sub-op's type follows its mode (3.8.0's Op.create): createTTL without a TTL mode and createContainer without the flag are creates, a create with the container flag a createContainer",
			[]Step{connect, {Kind: StepRequest, Op: wire.OpMulti, Sub: []Step{
				{Op: wire.OpCreateTTL, Path: "~/t", ACL: "open", TTLMs: 60000},
				{Op: wire.OpCreateContainer, Path: "~/p", ACL: "open"},
				{Op: wire.OpCreate, Path: "~/q", ACL: "open", Flags: wire.ModeContainer}}},
				{Kind: StepRequest, Op: wire.OpMulti, Sub: []Step{{Op: wire.OpCreate, Path: "~/r", ACL: "open", Flags: wire.ModePersistentWithTTL}}}},
			[]string{`results=[create path="~/t"; create path="~/p"; create2 path="~/q" stat={`,
				`multi [create "~/r" data="" acl=open flags=5] → replied err=MarshallingError(-5)`}},
		{"checkWatches answers OK when another connection watches the path (3.8.0), NoWatcher when none does",
			[]Step{connect, {Session: 1, Kind: StepConnect, TimeoutMs: 60000},
				{Session: 0, Kind: StepRequest, Op: wire.OpCheckWatches, Path: "~/b", Mode: 3},
				{Session: 1, Kind: StepRequest, Op: wire.OpAddWatch, Path: "~/b", Mode: 0},
				{Session: 0, Kind: StepRequest, Op: wire.OpCheckWatches, Path: "~/b", Mode: 3}},
			[]string{`s0 checkWatches "~/b" type=3 → replied err=NoWatcher(-121)`, `s1 addWatch "~/b" mode=0 → replied err=OK(0)`,
				`s0 checkWatches "~/b" type=3 → replied err=OK(0)`}},
		{"exists needs no READ permission (3.8.0; 3.8.4 added the check, ZOOKEEPER-2590)",
			[]Step{connect, {Kind: StepRequest, Op: wire.OpCreate, Path: "~/b", ACL: "bob"}, req(wire.OpExists, "~/b"), req(wire.OpGetData, "~/b")},
			[]string{`exists "~/b" watch=false → replied err=OK(0)`, `getData "~/b" watch=false → replied err=NoAuth(-102)`}},
		{"no watch event for a node the watcher may not READ, whatever the watch (Debian's 3.8.0-11+deb12u2 carries the CVE-2024-23944 fix)",
			[]Step{connect, {Session: 1, Kind: StepConnect, TimeoutMs: 60000},
				{Session: 0, Kind: StepRequest, Op: wire.OpAuth, Auth: "digest:bob:secret"},
				{Session: 0, Kind: StepRequest, Op: wire.OpCreate, Path: "~/s", ACL: "bob"},
				{Session: 1, Kind: StepRequest, Op: wire.OpAddWatch, Path: "~", Mode: 1},
				{Session: 1, Kind: StepRequest, Op: wire.OpAddWatch, Path: "~/s", Mode: 0},
				{Session: 1, Kind: StepRequest, Op: wire.OpExists, Path: "~/t", Watch: true},
				{Session: 0, Kind: StepRequest, Op: wire.OpCreate, Path: "~/t", ACL: "bob"},
				{Session: 0, Kind: StepRequest, Op: wire.OpSetData, Path: "~/s", Version: -1},
				{Session: 0, Kind: StepRequest, Op: wire.OpCreate, Path: "~/o", ACL: "open"},
				{Session: 1, Kind: StepRequest, Op: wire.OpSync, Path: "~"}},
			[]string{`s1 exists "~/t" watch=true → replied err=NoNode(-101)`,
				`s1 sync "~" → replied err=OK(0) zxid=z4 path="~" events-before=[NodeCreated("~/o" state=3)]`}},
		{"watch events reach the watcher before its next reply; one-shot",
			[]Step{connect, {Session: 1, Kind: StepConnect, TimeoutMs: 60000},
				{Session: 1, Kind: StepRequest, Op: wire.OpExists, Path: "~/a", Watch: true}, createA,
				{Session: 0, Kind: StepRequest, Op: wire.OpDelete, Path: "~/a", Version: -1},
				{Session: 1, Kind: StepRequest, Op: wire.OpSync, Path: "~"}},
			[]string{`s1 exists "~/a" watch=true → replied err=NoNode(-101)`, `s0 delete "~/a" version=-1 → replied err=OK(0)`,
				`s1 sync "~" → replied err=OK(0) zxid=z2 path="~" events-before=[NodeCreated("~/a" state=3)]`}},
	}
	for _, target := range []Target{a, b} {
		for _, tt := range tests {
			t.Run(target.Name+"/"+tt.name, func(t *testing.T) {
				steps := tt.steps
				tr := Run(target, nextPrefix(), steps)
				var lines []string
				for _, ls := range CanonicalLines(tr, len(steps))[1:] {
					lines = append(lines, ls...)
				}
				all := strings.Join(lines, "\n")
				rest := all
				for _, w := range tt.want {
					i := strings.Index(rest, w)
					if !assert.GreaterOrEqual(t, i, 0, "expected, after the previous expectations, %q in the transcript of %s:\n%s", w, target.Name, all) {
						return
					}
					rest = rest[i+len(w):]
				}
			})
		}
	}
}
