package main

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"html"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zabkit/zabkit/sim"
)

// wellFormed parses the page as XML (the timeline writes every tag closed and every text
// escaped, so a browser's lenient parser has nothing to guess) and returns the ids of its
// elements and how many elements of each class it holds.
func wellFormed(t *testing.T, page []byte) (ids map[string]bool, classes map[string]int) {
	t.Helper()
	ids, classes = map[string]bool{}, map[string]int{}
	d := xml.NewDecoder(bytes.NewReader(page))
	d.Strict = true
	depth := 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err, "the timeline is not well-formed")
		switch e := tok.(type) {
		case xml.StartElement:
			depth++
			for _, a := range e.Attr {
				switch a.Name.Local {
				case "id":
					ids[a.Value] = true
				case "class":
					classes[a.Value]++
				}
			}
		case xml.EndElement:
			depth--
		}
	}
	require.Zero(t, depth, "every element of the timeline is closed")
	require.True(t, bytes.HasPrefix(page, []byte("<!DOCTYPE html>\n<html")), "the page starts as HTML")
	return ids, classes
}

// zabsim replay -seed N -html FILE writes a page with a lane per server and every fault of
// the seed, and prints the trace (without -v).
func TestReplayWritesTheHTMLTimeline(t *testing.T) {
	const seed = 3
	path := filepath.Join(t.TempDir(), "t.html")
	code, out, errOut := zabsim("replay", "-seed", fmt.Sprint(seed), "-duration", "500ms", "-html", path)
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	require.Contains(t, out, "timeline: "+path)
	require.Contains(t, out, "LEADING BROADCAST", "replay prints the trace without -v")
	require.Greater(t, strings.Count(out, "\n"), 1000, "replay prints the whole trace")

	page, err := os.ReadFile(path)
	require.NoError(t, err)
	ids, classes := wellFormed(t, page)

	// The same seed, recorded, says which servers and faults the page must show.
	sw := sweep{stack: stack{name: "cluster", build: buildCluster}, duration: 500 * time.Millisecond}
	r := sw.runSeed(seed, true)
	m := regexp.MustCompile(`voters=(\d+) observers=(\d+)`).FindStringSubmatch(r.settings)
	require.NotNil(t, m, "settings name the servers:\n%s", r.settings)
	servers := atoi(t, m[1]) + atoi(t, m[2])
	for i := 1; i <= servers; i++ {
		require.True(t, ids[fmt.Sprintf("lane-s%d", i)], "the page has no lane for s%d", i)
	}
	require.False(t, ids[fmt.Sprintf("lane-s%d", servers+1)], "a lane for a server that does not exist")
	faults := 0
	for _, e := range r.trace {
		if e.Kind == sim.KindFault {
			faults++
			require.Contains(t, string(page), "fault at "+e.At.String()+": "+html.EscapeString(e.Text), "fault %q is not marked", e.Text)
		}
	}
	require.Positive(t, faults, "seed %d injects no fault in 500ms: pick a seed that does", seed)
	require.Equal(t, faults, classes["fault"], "one fault line per fault")
	require.Positive(t, classes["lane"])
	require.Contains(t, string(page), "The run passed every check.")
}

// A failing seed of a sweep gets a report directory (settings, trace, the check's report,
// the timeline with the failure marked), and zabsim prints the seed, the replay command
// and the directory.
func TestFailingSeedWritesAReport(t *testing.T) {
	reports := t.TempDir()
	code, out, errOut := zabsim("run", "-seeds", "3", "-duration", "1s", "-bug", "DiffByRange", "-reports", reports)
	require.Equal(t, 1, code, "ZOOKEEPER-1154 (DiffByRange) fails one of the first seeds; stdout:\n%s\nstderr:\n%s", out, errOut)
	m := regexp.MustCompile(`FAILED seed (\d+): `).FindStringSubmatch(out)
	require.NotNil(t, m, "the failure names its seed:\n%s", out)
	seed := m[1]
	require.Contains(t, out, "replay: go run ./cmd/zabsim replay -seed "+seed+" -duration 1s -bug DiffByRange")
	dir := filepath.Join(reports, "cluster-seed-"+seed)
	require.Contains(t, out, "report: "+dir)
	for _, name := range []string{"settings.txt", "trace.txt", "failure.txt", "timeline.html"} {
		info, err := os.Stat(filepath.Join(dir, name))
		require.NoError(t, err, "the report lacks %s", name)
		require.Positive(t, info.Size(), "%s is empty", name)
	}
	failure, err := os.ReadFile(filepath.Join(dir, "failure.txt"))
	require.NoError(t, err)
	require.Contains(t, string(failure), "replay: go run ./cmd/zabsim replay -seed "+seed)
	require.Contains(t, string(failure), "violated", "the check's report is in failure.txt")
	trace, err := os.ReadFile(filepath.Join(dir, "trace.txt"))
	require.NoError(t, err)
	require.Contains(t, string(trace), "FAILURE safety", "the trace runs to the failure")

	page, err := os.ReadFile(filepath.Join(dir, "timeline.html"))
	require.NoError(t, err)
	ids, _ := wellFormed(t, page)
	for _, id := range []string{"failure", "failure-line", "failing-event", "lane-s1"} {
		require.True(t, ids[id], "the timeline of a failure has no element %q", id)
	}

	// The replay command rebuilds the same failure.
	code, out, _ = zabsim("replay", "-seed", seed, "-duration", "1s", "-bug", "DiffByRange", "-q")
	require.Equal(t, 1, code, "the replay of seed %s fails again:\n%s", seed, out)
}

// The failing ops a client-level check quotes are drawn over their client's lane.
func TestTimelineMarksFailingOps(t *testing.T) {
	tl := timeline{title: "marks", failure: "LinearizableWrites: ...", failKind: "check", failAt: 30 * time.Millisecond,
		events: []sim.Event{
			{At: time.Millisecond, Kind: sim.KindSend, Host: "c0", Peer: "s1", ID: 1},
			{At: 2 * time.Millisecond, Kind: sim.KindDeliver, Host: "s1", Peer: "c0", ID: 1},
			{At: 3 * time.Millisecond, Kind: sim.KindNote, Host: "s1", Text: "LEADING BROADCAST epoch=1"},
			{At: 4 * time.Millisecond, Kind: sim.KindCrash, Host: "s1"},
			{At: 5 * time.Millisecond, Kind: sim.KindFault, Text: "partition {s1} {s2,c0} <&>"},
		},
		marks: []mark{{lane: "c0", from: time.Millisecond, to: 2 * time.Millisecond, text: "setData(\"/a\") -> <lost>"}}}
	var b bytes.Buffer
	require.NoError(t, tl.write(&b))
	ids, classes := wellFormed(t, b.Bytes())
	require.Equal(t, 1, classes["failing-op"], "one failing op drawn")
	require.Equal(t, 1, classes["fault"])
	require.True(t, ids["lane-s1"] && ids["lane-c0"], "a lane per node, clients included")
	require.Less(t, strings.Index(b.String(), `id="lane-s1"`), strings.Index(b.String(), `id="lane-c0"`), "servers first")
	require.Contains(t, b.String(), "partition {s1} {s2,c0} &lt;&amp;&gt;", "fault text escaped")
	require.Contains(t, b.String(), "failing: setData(&#34;/a&#34;) -&gt; &lt;lost&gt;")
}

// A sweep writes report directories for its first reportsMax failures only: each one reruns
// its seed with the whole trace recorded.
func TestSweepBoundsItsReports(t *testing.T) {
	reports := t.TempDir()
	code, out, errOut := zabsim("run", "-seeds", fmt.Sprint(reportsMax+4), "-duration", "300ms", "-bug", "CommitOutOfOrder", "-reports", reports)
	require.Equal(t, 1, code, "stdout:\n%s\nstderr:\n%s", out, errOut)
	failures := strings.Count(out, "\nFAILED seed ")
	require.Greater(t, failures, reportsMax, "CommitOutOfOrder fails nearly every seed:\n%s", out)
	dirs, err := os.ReadDir(reports)
	require.NoError(t, err)
	require.Len(t, dirs, reportsMax, "one report directory per failure, up to %d", reportsMax)
	require.Equal(t, failures-reportsMax, strings.Count(out, "report: not written (the first"), "the failures past the bound say why they have no report")
	seeds := regexp.MustCompile(`\nFAILED seed (\d+):`).FindAllStringSubmatch(out, -1)
	for i := 1; i < len(seeds); i++ {
		require.Less(t, atoi(t, seeds[i-1][1]), atoi(t, seeds[i][1]), "failures print in seed order, whatever order the workers finished in")
	}
}
