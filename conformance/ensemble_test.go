package conformance

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/zabkit/zabkit/zab/wire"
)

// ensembleChecksEnv overrides the number of generated sequences TestEnsembleDifferential runs
// (each costs a few seconds on both 3-server ensembles at once).
const ensembleChecksEnv = "ZABKIT_CONFORMANCE_ENSEMBLE_CHECKS"

const (
	ensembleChecksDefault = 4
	ensembleStepsMax      = 24
)

// startEnsembles starts a 3-server Apache ZooKeeper ensemble and a 3-server zabd ensemble
// and returns them as targets whose Members start with the leader: session slot 0 (and 3)
// talks to the leader, slots 1 and 2 to the two followers.
func startEnsembles(t *testing.T) (a, b Target, kill map[string]func()) {
	t.Helper()
	inst := apacheInstall(t)
	dir := t.TempDir()
	bin, err := BuildZabd(dir)
	require.NoError(t, err)
	kill = map[string]func(){}
	target := func(name string, start func() ([]*Server, error)) Target {
		servers, err := start()
		require.NoError(t, err, "starting the %s", name)
		members := make([]EnsembleMember, len(servers))
		for i, srv := range servers {
			t.Cleanup(srv.Stop)
			members[i] = EnsembleMember{Addr: srv.Addr, Kill: srv.Stop}
			kill[srv.Addr] = srv.Stop
		}
		leader, err := EnsembleLeader(members, 30*time.Second)
		require.NoError(t, err, "%s: one leader", name)
		var addrs []string
		for i := range members {
			addrs = append(addrs, members[(leader+i)%len(members)].Addr)
		}
		return Target{Name: name, Addr: addrs[0], Settings: DefaultSettings, Members: addrs}
	}
	a = target("apache-ensemble", func() ([]*Server, error) { return StartApacheEnsemble(inst, DefaultSettings, dir, 3) })
	b = target("zabd-ensemble", func() ([]*Server, error) { return StartZabdEnsemble(bin, DefaultSettings, dir, 3) })
	return a, b, kill
}

// TestEnsembleDifferential runs generated sequences (DrawSteps, zabd's known differences left
// out) on a 3-server Apache ZooKeeper ensemble and a 3-server zabd ensemble, each session
// pinned to one member (the leader for slots 0 and 3, a follower for slots 1 and 2) and every
// request preceded by a sync of its session, so that which member serves a session does not
// make the transcript depend on timing. Then the SessionMoved scenario, from the leader to a
// follower and between the followers. Reproduce: go test ./conformance -run
// TestEnsembleDifferential -v (ZABKIT_CONFORMANCE_ENSEMBLE_CHECKS=N for more sequences).
func TestEnsembleDifferential(t *testing.T) {
	if testing.Short() {
		t.Skip("two 3-server ensembles; skipped with -short")
	}
	checks := ensembleChecksDefault
	if v := os.Getenv(ensembleChecksEnv); v != "" {
		n, err := strconv.Atoi(v)
		require.NoError(t, err, "$%s", ensembleChecksEnv)
		checks = n
	}
	a, b, kill := startEnsembles(t)
	// The configuration node ("config-node") is compared: canon.go masks its ports and checks
	// its mtime is a wall time.
	exclude := map[string]bool{}
	for _, name := range zabdKnownDifferences {
		exclude[name] = true
	}
	for name, value := range map[string]string{"rapid.checks": strconv.Itoa(checks)} {
		old := flag.Lookup(name).Value.String()
		require.NoError(t, flag.Set(name, value))
		t.Cleanup(func() { _ = flag.Set(name, old) })
	}
	t.Run("generated", func(t *testing.T) {
		// Replies to requests of sessions on the leader (slots 0, 3) and on followers (1, 2):
		// both must have been reached, or the run compared nothing about member placement.
		onLeader, onFollower := 0, 0
		// Six processes on two loaded cores: a reply can miss its deadline on either side (CI
		// saw Apache's ensemble leave a sync unanswered, and zabd's expire a 1 s session). A
		// divergence is therefore run again on fresh nodes; a difference between the servers
		// diverges again, a timing accident does not. Retried ones are logged with their
		// report, and more than retriedMax in one run fails the test.
		const retriedMax = 2
		retried := 0
		rapid.Check(t, func(rt *rapid.T) {
			steps := Without(DrawSteps(rt, ensembleStepsMax), exclude)
			r := Differential(a, b, nextPrefix(), steps)
			if r.Divergence != nil && retried < retriedMax {
				first := r.Divergence.Report + leaderMoved(a, b)
				r = Differential(a, b, nextPrefix(), steps)
				if r.Divergence == nil {
					retried++
					t.Logf("a divergence did not recur when the sequence ran again (a timing accident, %d of at most %d per run):\n%s", retried, retriedMax, first)
				}
			}
			if r.Divergence != nil {
				rt.Fatalf("%s%s\nreproduce: go test ./conformance -run 'TestEnsembleDifferential' -v -rapid.seed=<the seed above>", r.Divergence.Report, leaderMoved(a, b))
			}
			for _, o := range r.A.Observations {
				if o.Step >= 0 && o.Op != 0 && o.Exchange != nil && o.Exchange.Outcome == Replied {
					if o.Session%3 == 0 {
						onLeader++
					} else {
						onFollower++
					}
				}
			}
		})
		// Which slots a few short sequences use is chance; that both the leader and a
		// follower answer compared requests is certain in "a mutated follower is caught".
		if checks > 0 {
			assert.Positive(t, onLeader+onFollower, "no request was answered in %d sequences", checks)
		}
		t.Logf("answered requests compared: %d through the leader, %d through followers", onLeader, onFollower)
	})
	t.Run("a mutated follower is caught", func(t *testing.T) {
		mutated := b
		mutated.Members = append([]string(nil), b.Members...)
		for i := 1; i < len(mutated.Members); i++ {
			mutated.Members[i] = startProxy(t, Target{Name: b.Name, Addr: b.Members[i]}, nodeExistsAsNoNode).Addr
		}
		steps := []Step{
			{Session: 0, Kind: StepConnect, TimeoutMs: 60000},
			{Session: 1, Kind: StepConnect, TimeoutMs: 60000},
			{Session: 0, Kind: StepRequest, Op: wire.OpCreate, Path: "~/a", ACL: "open"},
			{Session: 1, Kind: StepRequest, Op: wire.OpCreate, Path: "~/a", ACL: "open"},
		}
		r := Differential(a, mutated, nextPrefix(), steps)
		d := r.Divergence
		require.NotNil(t, d, "NodeExists turned into NoNode on the followers must diverge")
		for _, o := range r.A.Observations {
			if o.Op == wire.OpCreate && o.Step >= 0 {
				require.Equal(t, Replied, o.Exchange.Outcome, "%s: the create of session %d (slot 0 on the leader, 1 on a follower)", a.Name, o.Session)
			}
		}
		assert.Equal(t, 3, d.Step, "at the follower session's create:\n%s", d.Report)
		assert.Nil(t, Differential(a, b, nextPrefix(), steps).Divergence, "without the proxies the steps agree")
	})
	t.Run("the configuration node through the leader and a follower", func(t *testing.T) {
		// /zookeeper/config holds the quorum's configuration: compared on its Stat (zxids,
		// versions, counts, mtime a wall time) and its data with the ports masked (canon.go,
		// isQuorumConfigStat). Generated sequences reach it only now and then.
		var steps []Step
		for _, session := range []int{0, 1} {
			steps = append(steps, Step{Session: session, Kind: StepConnect, TimeoutMs: 60000})
		}
		for _, session := range []int{0, 1} {
			for _, s := range []Step{
				{Kind: StepRequest, Op: wire.OpGetData, Path: configNode, Watch: true},
				{Kind: StepRequest, Op: wire.OpExists, Path: configNode},
				{Kind: StepRequest, Op: wire.OpGetACL, Path: configNode},
				{Kind: StepRequest, Op: wire.OpMultiRead, Sub: []Step{{Op: wire.OpGetData, Path: configNode}, {Op: wire.OpGetChildren, Path: configNode}}},
				{Kind: StepRequest, Op: wire.OpSetData, Path: configNode, Text: "x", Version: -1},
				{Kind: StepRequest, Op: wire.OpDelete, Path: configNode, Version: -1},
				{Kind: StepRequest, Op: wire.OpGetChildren2, Path: "/zookeeper"},
			} {
				s.Session = session
				steps = append(steps, s)
			}
		}
		r := Differential(a, b, nextPrefix(), steps)
		if r.Divergence != nil {
			t.Fatalf("%s%s\nreproduce: go test ./conformance -run 'TestEnsembleDifferential/the_configuration_node' -v", r.Divergence.Report, leaderMoved(a, b))
		}
		read := 0
		for _, tr := range []*Transcript{r.A, r.B} {
			for _, line := range CanonicalLines(tr, len(steps)) {
				for _, l := range line {
					if strings.Contains(l, "mtime=wall version=-1") {
						read++
					}
				}
			}
		}
		// getData, exists, getACL and the multiRead's getData, through each of two sessions.
		assert.Equal(t, 2*2*4, read, "Stats of the quorum configuration node read on both ensembles (A's transcript:\n%s)", formatTranscript(r.A, len(steps)))
	})
	for _, move := range []struct {
		name     string
		from, to int
	}{{"SessionMoved from the leader to a follower", 0, 1}, {"SessionMoved between the followers", 1, 2}} {
		t.Run(move.name, func(t *testing.T) {
			prefix := nextPrefix()
			la := RunSessionMoved(a.Members, move.from, move.to, prefix)
			lb := RunSessionMoved(b.Members, move.from, move.to, prefix)
			assert.Equal(t, la, lb, "the SessionMoved scenario, %s (expected) and %s; reproduce: go test ./conformance -run 'TestEnsembleDifferential/SessionMoved' -v", a.Name, b.Name)
			assert.Contains(t, strings.Join(la, "\n"), "write through the old connection: closed-without-reply",
				"Apache closes the moved session's old connection instead of answering:\n%s", strings.Join(la, "\n"))
			if testing.Verbose() {
				t.Logf("%s:\n%s", a.Name, strings.Join(la, "\n"))
			}
		})
	}
	t.Run("four-letter words of the leader and a follower", func(t *testing.T) {
		prefix := nextPrefix()
		for _, target := range []Target{a, b} {
			// One session on a follower holding an ephemeral, so the trackers have something
			// to list.
			c, hs := Dial(target.Members[1], wire.ConnectRequest{TimeoutMs: 30000, Passwd: make([]byte, 16), HasReadOnly: true})
			require.Equal(t, Replied, hs.Outcome, "%s: a session on a follower", target.Name)
			t.Cleanup(c.Close)
			for i, req := range []*wire.CreateRequest{{Path: prefix, ACL: ACLs["open"]}, {Path: prefix + "/e", ACL: ACLs["open"], Flags: wire.ModeEphemeral}} {
				ex := c.Call(int32(i+1), wire.OpCreate, wire.AppendRequest(nil, wire.RequestHeader{Xid: int32(i + 1), Type: wire.OpCreate}, req))
				require.Equal(t, wire.ErrOK, ex.Reply.Header.Err, "%s: create %s (%v)", target.Name, req.Path, ex.Outcome)
			}
		}
		for _, role := range []struct {
			name   string
			member int
		}{{"leader", 0}, {"follower", 1}} {
			for _, cmd := range []string{"srvr", "stat", "dump", "cons", "wchs", "conf"} {
				outA, err := FourLetterWord(a.Members[role.member], cmd, 5*time.Second)
				require.NoError(t, err)
				outB, err := FourLetterWord(b.Members[role.member], cmd, 5*time.Second)
				require.NoError(t, err)
				ra, rb := ParseFourLetter(cmd, outA), ParseFourLetter(cmd, outB)
				if role.name == "leader" && (cmd == "srvr" || cmd == "stat") {
					// Known difference (README.md): Apache's leader adds the proposal sizes.
					const proposals = "Proposal sizes last/min/max"
					assert.Contains(t, ra.Fields, proposals, "%s's leader %s:\n%s", a.Name, cmd, outA)
					delete(ra.Fields, proposals)
				}
				if cmd == "conf" {
					// Which server id leads is the election's choice, different in each ensemble.
					delete(ra.Fields, "serverId")
					delete(rb.Fields, "serverId")
				}
				diffs := ra.Diff(rb, a.Name, b.Name)
				assert.Empty(t, diffs, "%s of the %s differs (reproduce: go test ./conformance -run 'TestEnsembleDifferential/four' -v):\n%s\n--- %s:\n%s\n--- %s:\n%s",
					cmd, role.name, strings.Join(diffs, "\n"), a.Name, outA, b.Name, outB)
			}
		}
	})
	// Last: it kills both leaders.
	t.Run("generated, then the leader killed", func(t *testing.T) {
		seed := int(time.Now().UnixNano() % 1_000_000)
		if v := os.Getenv(killSeedEnv); v != "" {
			var err error
			seed, err = strconv.Atoi(v)
			require.NoError(t, err, "$%s", killSeedEnv)
		}
		reproduce := fmt.Sprintf("reproduce: %s=%d go test ./conformance -run 'TestEnsembleDifferential' -v", killSeedEnv, seed)
		steps := Without(rapid.Custom(func(rt *rapid.T) []Step { return DrawSteps(rt, ensembleStepsMax) }).Example(seed), exclude)
		prefix := nextPrefix()
		var ta, tb *Transcript
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); ta = RunThenKillLeader(a, prefix, steps, kill[a.Members[0]]) }()
		go func() { defer wg.Done(); tb = RunThenKillLeader(b, prefix, steps, kill[b.Members[0]]) }()
		wg.Wait()
		if d := Compare(ta, tb, steps); d != nil {
			t.Fatalf("the ensembles diverge (%s):\n%s", reproduce, d.Report)
		}
		for _, tr := range []*Transcript{ta, tb} {
			trees := map[string]string{}
			for _, o := range tr.Observations {
				if o.What == TreeBeforeKill || o.What == TreeAfterFailover {
					trees[o.What] = o.Note
				}
			}
			require.Contains(t, trees, TreeBeforeKill, "%s", tr.Target.Name)
			assert.Equal(t, "it refuses connections", lastNote(tr, "the leader is killed"), "%s: the leader was not killed", tr.Target.Name)
			assert.Equal(t, trees[TreeBeforeKill], trees[TreeAfterFailover],
				"%s: the failover lost an acknowledged write or made one up (%s)", tr.Target.Name, reproduce)
			assert.True(t, strings.HasPrefix(trees[TreeAfterFailover], "["), "%s: the tree was read after the failover: %s", tr.Target.Name, trees[TreeAfterFailover])
		}
		t.Logf("seed %d, %d steps; %s after the failover: %s", seed, len(steps), a.Name, lastNote(ta, TreeAfterFailover))
	})
}

// killSeedEnv fixes the seed of the sequence TestEnsembleDifferential runs before killing the
// leaders (drawn once, not shrunk: the leaders are gone after it).
const killSeedEnv = "ZABKIT_CONFORMANCE_KILL_SEED"

func lastNote(tr *Transcript, what string) string {
	note := ""
	for _, o := range tr.Observations {
		if o.What == what {
			note = o.Note
		}
	}
	return note
}

func formatTranscript(tr *Transcript, steps int) string {
	var lines []string
	for _, step := range CanonicalLines(tr, steps) {
		lines = append(lines, step...)
	}
	return strings.Join(lines, "\n")
}

// leaderMoved says, for a divergence report, which ensembles no longer have their first member
// as leader: the tests pin sessions to members by role, so a re-election mid-test (seen with
// Apache's ensemble when busy loops took both cores) turns every later step into a divergence
// that is not a difference between the servers.
func leaderMoved(targets ...Target) string {
	var notes []string
	for _, target := range targets {
		var modes []string
		for _, m := range target.Members {
			out, err := FourLetterWord(m, "srvr", 2*time.Second)
			mode := ParseFourLetter("srvr", out).Fields["Mode"]
			if err != nil || mode == "" {
				mode = "not serving"
			}
			modes = append(modes, strings.TrimPrefix(mode, "="))
		}
		if len(modes) > 0 && modes[0] != "leader" {
			notes = append(notes, fmt.Sprintf("%s's first member is no longer its leader (modes now %v)", target.Name, modes))
		}
	}
	if len(notes) == 0 {
		return ""
	}
	return "\nnote: " + strings.Join(notes, "; ") + ": the ensemble re-elected during the test (a loaded machine?), so this divergence may be that rather than a difference"
}
