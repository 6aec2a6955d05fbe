package conformance

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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

// TestFourLetterWordsAgree fetches every four-letter word monitoring tools parse from target A
// and target B and requires their reports to agree: the same keys, the same stable values,
// the same value formats. Against zabd ($ZABKIT_CONFORMANCE_TARGET) this is the 4lw part of
// the conformance table.
func TestFourLetterWordsAgree(t *testing.T) {
	a, b := targets(t)
	for _, cmd := range FourLetterWords {
		t.Run(cmd, func(t *testing.T) {
			outA, err := FourLetterWord(a.Addr, cmd, 5*time.Second)
			require.NoError(t, err, "%s from %s", cmd, a.Name)
			outB, err := FourLetterWord(b.Addr, cmd, 5*time.Second)
			require.NoError(t, err, "%s from %s", cmd, b.Name)
			ra, rb := ParseFourLetter(cmd, outA), ParseFourLetter(cmd, outB)
			require.NotEmpty(t, ra.Fields, "%s from %s parsed to nothing:\n%s", cmd, a.Name, outA)
			if cmd == "mntr" {
				for k := range rb.Fields {
					_, inA := ra.Fields[k]
					assert.True(t, inA || slices.Contains(ZabdMntrExtras, k),
						"mntr key %s of %s is neither Apache's nor a documented zabd extra (ZabdMntrExtras)", k, b.Name)
				}
				ra, rb = ra.Monitored(), rb.Monitored()
			}
			diffs := ra.Diff(rb, a.Name, b.Name)
			assert.Empty(t, diffs, "%s reports differ:\n%s\n--- %s said:\n%s\n--- %s said:\n%s",
				cmd, strings.Join(diffs, "\n"), a.Name, outA, b.Name, outB)
			if testing.Verbose() {
				t.Logf("%s report: %s", cmd, formatReport(ra))
			}
		})
	}
	// What zkServer.sh status and client libraries read (§11.4).
	out, err := FourLetterWord(a.Addr, "srvr", 5*time.Second)
	require.NoError(t, err)
	r := ParseFourLetter("srvr", out)
	assert.Equal(t, "=standalone", r.Fields["Mode"])
	assert.Equal(t, "=3.8.0", r.Fields["version-number"], "Debian 12's ZooKeeper (srvr said %q)", out)
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
