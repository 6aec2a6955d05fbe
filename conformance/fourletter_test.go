package conformance

import (
	"fmt"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zabkit/zabkit/zab/wire"
)

func TestParseFourLetterKeepsStableValuesAndShapes(t *testing.T) {
	srvr := "Zookeeper version: 3.8.0-${mvngit.commit.id}, built on 2024-12-29 17:54 UTC\n" +
		"Latency min/avg/max: 0/0.5/3\nReceived: 12\nSent: 11\nConnections: 1\nOutstanding: 0\n" +
		"Zxid: 0x1a\nMode: standalone\nNode count: 5\n"
	tests := []struct {
		cmd, out string
		want     map[string]string
	}{
		{"ruok", "imok", map[string]string{"ruok": "=imok"}},
		{"srvr", srvr, map[string]string{
			"Zookeeper version":   "~3.8.0-<git>, built on YYYY-MM-DD hh:mm UTC",
			"version-number":      "=3.8.0",
			"Latency min/avg/max": "~N/F/N",
			"Received":            "~N", "Sent": "~N", "Connections": "~N", "Outstanding": "=0",
			"Zxid": "~<hex>", "Mode": "=standalone", "Node count": "~N",
		}},
		{"mntr", "zk_version\t3.8.0-abc, built on 2024-12-29 17:54 UTC\nzk_server_state\tfollower\nzk_avg_latency\t0.0\nzk_q\t1.2E-4\n", map[string]string{
			"zk_version": "~3.8.0-<git>, built on YYYY-MM-DD hh:mm UTC", "version-number": "=3.8.0",
			"zk_server_state": "=follower", "zk_avg_latency": "~F", "zk_q": "~F",
		}},
		{"conf", "clientPort=2181\ntickTime=500\ndataDir=/tmp/x/version-2\n", map[string]string{
			"clientPort": "~N", "tickTime": "=500", "dataDir": "~present",
		}},
		{"wchs", "1 connections watching 2 paths\nTotal watches:2\n", map[string]string{
			"line:N connections watching N paths": "~present", "line:Total watches:N": "~present",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.cmd, func(t *testing.T) {
			assert.Equal(t, tt.want, ParseFourLetter(tt.cmd, tt.out).Fields, "report of:\n%s", tt.out)
		})
	}
}

func TestFourLetterReportDiffNamesEachDisagreement(t *testing.T) {
	a := ParseFourLetter("srvr", "Mode: standalone\nReceived: 3\nZxid: 0x5\n")
	b := ParseFourLetter("srvr", "Mode: leader\nReceived: 300\nNode count: 5\n")
	assert.Equal(t, []string{
		"srvr Mode: A =standalone, B =leader",
		"srvr Node count: only B has it (~N)",
		"srvr Zxid: only A has it (~<hex>)",
	}, a.Diff(b, "A", "B"))
	assert.Empty(t, a.Diff(a, "A", "A"), "a report agrees with itself")
}

// TestFourLetterWordsAgree fetches every four-letter word of FourLetterWords from target A and
// target B, both holding the same state: a fresh pair of servers (so their counts start
// equal), one run prefix with persistent and ephemeral znodes, and two open sessions with data,
// child, exists and persistent watches. Their reports must agree (the same keys, the same
// stable values, the same value formats), and the StateCounts — znode, watch and ephemeral
// counts, wchs's numbers, dump's sessions and ephemerals — must be equal. wchc and wchp must
// list the same watches (as sets, sessions named), and stmk must set the trace mask gtmk then
// prints alike. Against zabd this is the 4lw part of the conformance table. Reproduce:
// go test ./conformance -run 'TestFourLetterWordsAgree' -v (ZABKIT_CONFORMANCE_TARGET=apache
// runs Apache against Apache).
func TestFourLetterWordsAgree(t *testing.T) {
	a, b, fresh := fourLetterTargets(t)
	prefix := nextPrefix()
	sessions := map[string]map[int64]string{a.Name: holdWatchState(t, a, prefix), b.Name: holdWatchState(t, b, prefix)}
	reproduce := "reproduce: go test ./conformance -run 'TestFourLetterWordsAgree' -v"
	outs := map[string]map[string]string{a.Name: {}, b.Name: {}}
	for _, cmd := range FourLetterWords {
		t.Run(cmd, func(t *testing.T) {
			outA, err := FourLetterWord(a.Addr, cmd, 5*time.Second)
			require.NoError(t, err, "%s from %s", cmd, a.Name)
			outB, err := FourLetterWord(b.Addr, cmd, 5*time.Second)
			require.NoError(t, err, "%s from %s", cmd, b.Name)
			outs[a.Name][cmd], outs[b.Name][cmd] = outA, outB
			ra, rb := ParseFourLetter(cmd, outA), ParseFourLetter(cmd, outB)
			require.NotEmpty(t, ra.Fields, "%s from %s parsed to nothing:\n%s", cmd, a.Name, outA)
			if cmd == "mntr" {
				for k := range rb.Fields {
					_, inA := ra.Fields[k]
					assert.True(t, inA || slices.Contains(ZabdMntrExtras, k),
						"mntr key %s of %s is neither Apache's nor a documented zabd extra (ZabdMntrExtras); %s", k, b.Name, reproduce)
				}
				ra, rb = ra.Monitored(), rb.Monitored()
			}
			diffs := ra.Diff(rb, a.Name, b.Name)
			assert.Empty(t, diffs, "%s reports differ (%s):\n%s\n--- %s said:\n%s\n--- %s said:\n%s",
				cmd, reproduce, strings.Join(diffs, "\n"), a.Name, outA, b.Name, outB)
			if testing.Verbose() {
				t.Logf("%s report: %s", cmd, formatReport(ra))
			}
		})
	}
	t.Run("watch listings", func(t *testing.T) {
		// Apache 3.8.0's data-watch table in this state (wchs: 2 connections, 3 paths, 4
		// watches): the exists watch on a missing node is a data watch, the persistent watch
		// is in both tables, the child watch in the child table only.
		want := []string{"session-1 " + prefix + "/a", "session-1 " + prefix + "/missing",
			"session-2 " + prefix + "/a", "session-2 " + prefix + "/b"}
		for _, cmd := range WatchListingWords {
			outA, outB := outs[a.Name][cmd], outs[b.Name][cmd]
			pairsA, err := WatchPairs(cmd, outA, sessions[a.Name])
			require.NoError(t, err, "%s from %s:\n%s", cmd, a.Name, outA)
			pairsB, err := WatchPairs(cmd, outB, sessions[b.Name])
			require.NoError(t, err, "%s from %s:\n%s", cmd, b.Name, outB)
			if fresh {
				assert.Equal(t, want, pairsA, "%s from %s lists these watches (sessions %v):\n%s", cmd, a.Name, sessions[a.Name], outA)
			}
			assert.Equal(t, pairsA, pairsB, "%s lists different watches, %s vs %s (%s)\n--- %s said:\n%s--- %s said:\n%s",
				cmd, a.Name, b.Name, reproduce, a.Name, outA, b.Name, outB)
		}
	})
	t.Run("stmk", func(t *testing.T) {
		// The mask is one per server process (ZooTrace's static field; zabd's likewise, shared
		// by the servers of one process): put back what each target held.
		for _, target := range []Target{a, b} {
			before, err := FourLetterWord(target.Addr, "gtmk", 5*time.Second)
			require.NoError(t, err, "gtmk from %s", target.Name)
			mask, err := strconv.ParseInt(before, 10, 64)
			require.NoError(t, err, "gtmk from %s: %q is not a mask", target.Name, before)
			t.Cleanup(func() {
				out, err := SetTraceMask(target.Addr, mask, 5*time.Second)
				assert.NoError(t, err, "restoring the trace mask %d of %s", mask, target.Name)
				assert.Equal(t, before, out, "restoring the trace mask of %s", target.Name)
			})
		}
		for _, mask := range []int64{0x1f, -1, 0} {
			for _, target := range []Target{a, b} {
				out, err := SetTraceMask(target.Addr, mask, 5*time.Second)
				require.NoError(t, err, "stmk %d to %s", mask, target.Name)
				assert.Equal(t, strconv.FormatInt(mask, 10), out, "stmk %#x to %s echoes the mask in decimal, no line end (%s)", mask, target.Name, reproduce)
				out, err = FourLetterWord(target.Addr, "gtmk", 5*time.Second)
				require.NoError(t, err, "gtmk from %s", target.Name)
				assert.Equal(t, strconv.FormatInt(mask, 10), out, "gtmk from %s after stmk %#x (%s)", target.Name, mask, reproduce)
			}
		}
		// Without its eight bytes neither server answers stmk, and the mask stays.
		for _, target := range []Target{a, b} {
			out, err := FourLetterWord(target.Addr, "stmk", 5*time.Second)
			require.NoError(t, err, "stmk without a mask to %s", target.Name)
			assert.Empty(t, out, "stmk without a mask to %s", target.Name)
			out, err = FourLetterWord(target.Addr, "gtmk", 5*time.Second)
			require.NoError(t, err, "gtmk from %s", target.Name)
			assert.Equal(t, "0", out, "gtmk from %s after a stmk without a mask: the last mask set (0) stays", target.Name)
		}
	})
	t.Run("state counts", func(t *testing.T) {
		if !fresh {
			t.Skipf("skipping: target B is a running server ($%s), whose counts include what it held before", TargetEnv)
		}
		ca, cb := StateCounts(outs[a.Name]), StateCounts(outs[b.Name])
		assert.Equal(t, "2", ca["dump sessions with ephemerals"], "%s's dump (the two held sessions):\n%s", a.Name, outs[a.Name]["dump"])
		assert.Equal(t, []string{"2", "3", "4"}, []string{ca["wchs connections"], ca["wchs paths"], ca["wchs watches"]},
			"%s's wchs (connections, paths, watches of the data-watch table):\n%s", a.Name, outs[a.Name]["wchs"])
		assert.Equal(t, ca, cb, "state counts differ, %s vs %s (%s)\n--- %s:\n%s%s%s\n--- %s:\n%s%s%s", a.Name, b.Name, reproduce,
			a.Name, outs[a.Name]["mntr"], outs[a.Name]["wchs"], outs[a.Name]["dump"], b.Name, outs[b.Name]["mntr"], outs[b.Name]["wchs"], outs[b.Name]["dump"])
	})
	// What zkServer.sh status and client libraries read (§11.4).
	out, err := FourLetterWord(a.Addr, "srvr", 5*time.Second)
	require.NoError(t, err)
	r := ParseFourLetter("srvr", out)
	assert.Equal(t, "=standalone", r.Fields["Mode"])
	assert.Equal(t, "=3.8.0", r.Fields["version-number"], "Debian 12's ZooKeeper (srvr said %q)", out)
}

// fourLetterTargets starts a fresh Apache ZooKeeper and a fresh target B (zabd, or Apache with
// $ZABKIT_CONFORMANCE_TARGET=apache), so that their counts are comparable; fresh is false when
// B is a running server named by the variable, then the shared targets are used.
func fourLetterTargets(t *testing.T) (a, b Target, fresh bool) {
	if _, fromEnv, err := TargetFromEnv(); err != nil || fromEnv {
		a, b = targets(t)
		return a, b, false
	}
	apacheInstall(t)
	dir := t.TempDir()
	a, stopA, err := ApacheStarter("apache-A")(DefaultSettings, dir)
	require.NoError(t, err, "starting Apache ZooKeeper")
	t.Cleanup(stopA)
	startB := ZabdStarter()
	if strings.TrimSpace(os.Getenv(TargetEnv)) == "apache" {
		startB = ApacheStarter("apache-B")
	}
	b, stopB, err := startB(DefaultSettings, dir)
	require.NoError(t, err, "starting target B")
	t.Cleanup(stopB)
	return a, b, true
}

// holdWatchState builds the state the 4lw are compared in and keeps its two sessions open
// (pinged) until the test ends: under prefix, a persistent node with data and two children,
// one ephemeral per session; session 1 watches the data of prefix/a, the children of prefix
// and the existence of a missing node, session 2 the data of prefix/a and, persistently,
// prefix/b. The last request of each session is the same on both targets, so cons agrees.
// It returns the names of the two sessions by id ("session-1", "session-2"), for WatchPairs.
func holdWatchState(t *testing.T, target Target, prefix string) (sessions map[int64]string) {
	t.Helper()
	steps := [][]Step{
		{
			{Kind: StepRequest, Op: wire.OpCreate, Path: "~", ACL: "open"},
			{Kind: StepRequest, Op: wire.OpCreate, Path: "~/a", ACL: "open", Data: DataText, Text: "hello"},
			{Kind: StepRequest, Op: wire.OpCreate, Path: "~/b", ACL: "open"},
			{Kind: StepRequest, Op: wire.OpCreate, Path: "~/e1", ACL: "open", Flags: wire.ModeEphemeral},
			{Kind: StepRequest, Op: wire.OpGetData, Path: "~/a", Watch: true},
			{Kind: StepRequest, Op: wire.OpGetChildren, Path: "~", Watch: true},
			{Kind: StepRequest, Op: wire.OpExists, Path: "~/missing", Watch: true},
		},
		{
			{Kind: StepRequest, Op: wire.OpCreate, Path: "~/e2", ACL: "open", Flags: wire.ModeEphemeral},
			{Kind: StepRequest, Op: wire.OpAddWatch, Path: "~/b", Mode: int32(wire.AddWatchPersistent)},
			{Kind: StepRequest, Op: wire.OpGetData, Path: "~/a", Watch: true},
		},
	}
	sessions = map[int64]string{}
	for i, session := range steps {
		c, hs := Dial(target.Addr, wire.ConnectRequest{TimeoutMs: 30000, Passwd: make([]byte, 16), HasReadOnly: true})
		require.Equal(t, Replied, hs.Outcome, "session %d on %s: handshake %v", i+1, target.Name, hs.Err)
		sessions[hs.Response.SessionID] = fmt.Sprintf("session-%d", i+1)
		t.Cleanup(c.Close)
		c.StartPinger(5 * time.Second)
		for xid, s := range session {
			ex := c.Call(int32(xid+1), s.Op, s.frame(prefix, int32(xid+1), 0, 1<<20))
			require.Equal(t, Replied, ex.Outcome, "session %d on %s: %s: %v", i+1, target.Name, s, ex.Err)
			want := wire.ErrOK
			if s.Path == "~/missing" {
				want = wire.ErrNoNode // the exists watch is set all the same
			}
			require.Equal(t, want, ex.Reply.Header.Err, "session %d on %s: %s", i+1, target.Name, s)
		}
	}
	return sessions
}

func formatReport(r FourLetterReport) string {
	var lines []string
	for k, v := range r.Fields {
		lines = append(lines, fmt.Sprintf("%s %s", k, v))
	}
	sort.Strings(lines)
	return strings.Join(lines, "; ")
}

func TestMonitoredKeepsTheKeysToolsParse(t *testing.T) {
	r := ParseFourLetter("mntr", "zk_version\t3.8.0-abc, built on 2024-12-29 17:54 UTC\nzk_server_state\tstandalone\n"+
		"zk_avg_jvm_pause_time_ms\t0.0\nzk_ephemerals_count\t2\n")
	assert.Equal(t, map[string]string{
		"zk_version": "~3.8.0-<git>, built on YYYY-MM-DD hh:mm UTC", "version-number": "=3.8.0",
		"zk_server_state": "=standalone", "zk_ephemerals_count": "~N",
	}, r.Monitored().Fields, "a JVM metric is left out, the monitored keys and the version number stay")
}

func TestStateCountsReadsTheStateFigures(t *testing.T) {
	outs := map[string]string{
		"mntr": "zk_version\t3.8.0\nzk_znode_count\t10\nzk_watch_count\t5\nzk_ephemerals_count\t2\n",
		"srvr": "Mode: standalone\nNode count: 10\n",
		"wchs": "2 connections watching 3 paths\nTotal watches:4\n",
		"dump": "SessionTracker dump:\nSession Sets (1)/(2):\n2 expire at Sun Nov 22 04:19:48 UTC 2026:\n\t0x1\n\t0x2\n" +
			"ephemeral nodes dump:\nSessions with Ephemerals (2):\n0x1:\n\t/p/e2\n0x2:\n\t/p/e1\n" +
			"Connections dump:\nConnections Sets (1)/(1):\n1 expire at Sun Nov 22 04:19:48 UTC 2026:\n\tip: /127.0.0.1:1 sessionId: 0x1\n",
	}
	assert.Equal(t, map[string]string{
		"mntr zk_znode_count": "10", "mntr zk_watch_count": "5", "mntr zk_ephemerals_count": "2",
		"srvr Node count": "10", "wchs connections": "2", "wchs paths": "3", "wchs watches": "4",
		"dump sessions": "2", "dump sessions with ephemerals": "2", "dump ephemerals": "/p/e1 /p/e2",
	}, StateCounts(outs), "ephemeral paths are a sorted set, whatever order the server printed")
	missing := StateCounts(map[string]string{"mntr": "zk_znode_count\t3\n"})
	assert.Equal(t, "3", missing["mntr zk_znode_count"])
	for _, k := range []string{"mntr zk_watch_count", "srvr Node count", "wchs paths", "dump sessions", "dump ephemerals"} {
		assert.Equal(t, "missing", missing[k], "%s absent from the replies must read as missing, not as a value", k)
	}
}

func TestWatchPairsReadsListingsAsSets(t *testing.T) {
	sessions := map[int64]string{0x1a: "session-1", 0x2b: "session-2"}
	both := []string{"session-1 /p/a", "session-1 /p/missing", "session-2 /p/a", "session-2 /p/b"}
	tests := []struct {
		name, cmd, out string
		want           []string
		err            string
	}{
		{"wchc in hash-map order", "wchc", "0x2b\n\t/p/b\n\t/p/a\n0x1a\n\t/p/missing\n\t/p/a\n\n", both, ""},
		{"wchc sorted", "wchc", "0x1a\n\t/p/a\n\t/p/missing\n0x2b\n\t/p/a\n\t/p/b\n\n", both, ""},
		{"wchp in hash-map order", "wchp", "/p/missing\n\t0x1a\n/p/a\n\t0x2b\n\t0x1a\n/p/b\n\t0x2b\n\n", both, ""},
		{"an empty table", "wchc", "\n", nil, ""},
		{"a session the test did not open", "wchp", "/p/a\n\t0x3c\n\n", []string{"unknown-0x3c /p/a"}, ""},
		{"a watch listed twice", "wchc", "0x1a\n\t/p/a\n0x1a\n\t/p/a\n\n", nil, "twice"},
		{"no final blank line", "wchc", "0x1a\n\t/p/a\n", nil, "blank line"},
		{"a path before any session", "wchc", "\t/p/a\n\n", nil, "before any header"},
		{"a wchc header that is no session id", "wchc", "/p/a\n\t/p/b\n\n", nil, "not a session id"},
		{"a wchp header that is no path", "wchp", "0x1a\n\t0x2b\n\n", nil, "not a path"},
		{"a wchp session that is no id", "wchp", "/p/a\n\t/p/b\n\n", nil, "not a session id"},
		{"another word", "wchs", "1 connections watching 1 paths\nTotal watches:1\n", nil, "not a watch listing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := WatchPairs(tt.cmd, tt.out, sessions)
			if tt.err != "" {
				require.Error(t, err, "%s reply %q must be rejected, got %v", tt.cmd, tt.out, got)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err, "%s reply %q", tt.cmd, tt.out)
			assert.Equal(t, tt.want, got, "%s reply %q", tt.cmd, tt.out)
		})
	}
	// Two servers whose listings differ by one watch, or by which session holds it, differ.
	a, _ := WatchPairs("wchc", "0x1a\n\t/p/a\n\t/p/missing\n0x2b\n\t/p/a\n\t/p/b\n\n", sessions)
	for _, other := range []string{"0x1a\n\t/p/a\n0x2b\n\t/p/a\n\t/p/b\n\n", "0x2b\n\t/p/a\n\t/p/missing\n0x1a\n\t/p/a\n\t/p/b\n\n"} {
		b, err := WatchPairs("wchc", other, sessions)
		require.NoError(t, err)
		assert.NotEqual(t, a, b, "listing %q must differ from %q", other, both)
	}
}
