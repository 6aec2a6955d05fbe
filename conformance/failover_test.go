package conformance

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEnsembleFailoverAgrees runs the failover scenario (RunFailover) on a 3-server Apache
// ZooKeeper ensemble and on a 3-server zabd ensemble: a session on one member, writes through
// another, sync then read; the leader killed while the writer keeps writing. Each run must
// show only outcomes ZooKeeper can produce (acknowledged writes survive, sessions and their
// ephemerals live on when resumed in time, a one-shot data watch fires once), and the
// timing-free outcomes must be the same on both ensembles.
func TestEnsembleFailoverAgrees(t *testing.T) {
	if testing.Short() {
		t.Skip("two 3-server ensembles; skipped with -short")
	}
	inst := apacheInstall(t)
	dir := t.TempDir()
	bin, err := BuildZabd(dir)
	require.NoError(t, err)
	starters := []struct {
		name  string
		start func() ([]*Server, error)
	}{
		{"apache-ensemble", func() ([]*Server, error) { return StartApacheEnsemble(inst, DefaultSettings, dir, 3) }},
		{"zabd-ensemble", func() ([]*Server, error) { return StartZabdEnsemble(bin, DefaultSettings, dir, 3) }},
	}
	const reproduce = "reproduce: go test ./conformance -run 'TestEnsembleFailoverAgrees' -v"
	var runs []*FailoverRun
	mntr := map[string][]FourLetterReport{}
	for _, st := range starters {
		servers, err := st.start()
		require.NoError(t, err, "starting the %s", st.name)
		for _, srv := range servers {
			t.Cleanup(srv.Stop)
		}
		members := make([]EnsembleMember, len(servers))
		for i, srv := range servers {
			members[i] = EnsembleMember{Addr: srv.Addr, Kill: srv.Stop}
		}
		leader, err := EnsembleLeader(members, 30*time.Second)
		require.NoError(t, err, "%s: one leader", st.name)
		// mntr as monitoring reads it from a leader and a follower (the leader adds its
		// learner keys, every member zk_quorum_size).
		for _, role := range []struct {
			name string
			at   int
		}{{"leader", leader}, {"follower", (leader + 1) % len(members)}} {
			out, err := FourLetterWord(members[role.at].Addr, "mntr", 5*time.Second)
			require.NoError(t, err, "%s: mntr of the %s", st.name, role.name)
			mntr[role.name] = append(mntr[role.name], ParseFourLetter("mntr", out).Monitored())
		}
		started := time.Now()
		r := RunFailover(st.name, members, leader, nextPrefix())
		t.Logf("%s: %v; acked %v, unknown %v, failed %v, final children %v (%v)", st.name, r.Outcome(),
			r.Acked, r.Unknown, r.Failed, r.FinalChildren, time.Since(started).Round(time.Millisecond))
		assert.Empty(t, r.Violations(), "%s: outcomes ZooKeeper cannot produce (%s); the run:\n%s", st.name, reproduce, strings.Join(r.Log, "\n"))
		require.NotNil(t, r.FinalChildren, "%s: no survivor served the final read (%s); the run:\n%s", st.name, reproduce, strings.Join(r.Log, "\n"))
		for _, srv := range servers {
			srv.Stop() // free the two cores before the next ensemble starts
		}
		runs = append(runs, r)
	}
	assert.Equal(t, runs[0].Outcome(), runs[1].Outcome(), "the timing-free outcomes of the Apache run (expected) and the zabd run (%s); logs:\n--- %s:\n%s\n--- %s:\n%s",
		reproduce, runs[0].Name, strings.Join(runs[0].Log, "\n"), runs[1].Name, strings.Join(runs[1].Log, "\n"))
	for role, reports := range mntr {
		assert.Empty(t, reports[0].Diff(reports[1], "apache", "zabd"), "mntr of an ensemble %s, on the keys monitoring parses (%s)", role, reproduce)
	}
}
