package conformance

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Real client programs, scripted (issue 8, third bullet): the same script runs against target
// A and target B and the outputs must be equal once what two correct servers may choose
// differently (zxids, times, session ids) is masked.

const (
	zkCliPath    = "/usr/share/zookeeper/bin/zkCli.sh" // Debian package zookeeper
	cliMtPath    = "/usr/lib/zookeeper/bin/cli_mt"     // Debian package zookeeper-bin
	clientRunMax = 60 * time.Second                    // one scripted client run, JVM start included
	// cli_mt is asynchronous: the next command is typed once the output has been quiet for
	// cliMtQuiet after growing, or after cliMtLineMax for a command that prints nothing.
	cliMtQuiet   = 250 * time.Millisecond
	cliMtLineMax = 700 * time.Millisecond
)

// zkCliScript exercises what issue 8 lists for zkCli.sh under prefix p: create, get -s, set,
// ls, stat, delete, deleteall, create -e and -s, get -w with the watch firing, addauth
// digest, setAcl/getAcl, and the errors a user meets (missing node, version conflict,
// NoAuth, NotEmpty).
func zkCliScript(p string) string {
	return strings.Join([]string{
		"create " + p + " root",
		"create " + p + "/a data-a",
		"get -s " + p + "/a",
		"set " + p + "/a data-b",
		"set -v 7 " + p + "/a stale",
		"get " + p + "/a",
		"stat " + p + "/a",
		"ls " + p,
		"ls -s " + p,
		"create -e " + p + "/eph e",
		"create -s " + p + "/seq- s",
		"create -s " + p + "/seq- s",
		"create -e -s " + p + "/es- x",
		"create " + p + "/a again",
		"create " + p + "/missing/child x",
		"ls " + p,
		"get -w " + p + "/a",
		"set " + p + "/a fired",
		"ls -w " + p,
		"create " + p + "/b b",
		"delete " + p + "/nope",
		"delete " + p,
		"addauth digest bob:secret",
		"create " + p + "/locked l",
		"setAcl " + p + "/locked auth:bob:secret:cdrwa",
		"getAcl " + p + "/locked",
		"setAcl " + p + "/a world:anyone:r",
		"getAcl " + p + "/a",
		"set " + p + "/a denied",
		"get " + p + "/locked",
		"delete " + p + "/b",
		"deleteall " + p,
		"ls " + p,
		"stat " + p,
		"quit",
	}, "\n") + "\n"
}

// cliMtScript is the same exercise in the C client's cli_mt commands (create [+e|+s] path,
// get (which sets a watch), set, ls, ls2, exists, wget, sync, addauth, delete).
func cliMtScript(p string) []string {
	return []string{
		"create " + p,
		"create " + p + "/a",
		"get " + p + "/a",
		"set " + p + "/a data-b",
		"ls " + p,
		"exists " + p + "/a",
		"create +e " + p + "/eph",
		"create +s " + p + "/seq-",
		"create +s " + p + "/seq-",
		"create +es " + p + "/es-",
		"create " + p + "/a",
		"ls2 " + p,
		"wget " + p + "/a",
		"set " + p + "/a fired",
		"sync " + p,
		"addauth digest bob:secret",
		"delete " + p + "/nope",
		"delete " + p,
		"delete " + p + "/eph",
		"ls " + p,
		"quit",
	}
}

func TestZkCliScriptAgrees(t *testing.T) {
	if _, err := os.Stat(zkCliPath); err != nil {
		t.Skipf("skipping: %s is missing (Debian package zookeeper): %v", zkCliPath, err)
	}
	a, b := targets(t)
	var outs []string
	for _, target := range []Target{a, b} {
		p := nextPrefix()
		raw := runZkCli(t, target, zkCliScript(p))
		outs = append(outs, normalizeZkCli(raw, p))
	}
	require.Contains(t, outs[0], "WatchedEvent state:SyncConnected type:NodeDataChanged path:~/a",
		"the get -w watch fired on %s:\n%s", a.Name, outs[0])
	assert.Equal(t, outs[0], outs[1], "zkCli.sh output on %s (expected) and %s (actual) differ; rerun with -run TestZkCliScriptAgrees -v", a.Name, b.Name)
	if testing.Verbose() {
		t.Logf("zkCli.sh transcript (normalized):\n%s", outs[0])
	}
}

func TestCliMtScriptAgrees(t *testing.T) {
	if _, err := os.Stat(cliMtPath); err != nil {
		t.Skipf("skipping: %s is missing (Debian package zookeeper-bin): %v", cliMtPath, err)
	}
	a, b := targets(t)
	var outs []string
	for _, target := range []Target{a, b} {
		p := nextPrefix()
		raw := runCliMt(t, target, cliMtScript(p))
		outs = append(outs, normalizeCliMt(raw, p))
	}
	require.Contains(t, outs[0], "Watcher CHANGED_EVENT state = CONNECTED_STATE for path ~/a",
		"the wget watch fired on %s:\n%s", a.Name, outs[0])
	assert.Equal(t, outs[0], outs[1], "cli_mt output on %s (expected) and %s (actual) differ; rerun with -run TestCliMtScriptAgrees -v", a.Name, b.Name)
	if testing.Verbose() {
		t.Logf("cli_mt transcript (normalized):\n%s", outs[0])
	}
}

// runZkCli feeds script to zkCli.sh on stdin (JLine is off without a terminal, so it reads
// line by line and runs each command synchronously) and returns stdout and stderr.
func runZkCli(t *testing.T, target Target, script string) string {
	t.Helper()
	cmd := exec.Command(zkCliPath, "-server", target.Addr)
	cmd.Stdin = strings.NewReader(script)
	cmd.Env = append(os.Environ(), "ZOO_LOG_DIR="+t.TempDir())
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start(), "starting zkCli.sh")
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		// zkCli.sh exits with the last command's status: part of what must agree.
		fmt.Fprintf(&out, "\nexit: %v\n", err)
	case <-time.After(clientRunMax):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("zkCli.sh against %s did not finish within %v:\n%s", target.Name, clientRunMax, out.String())
	}
	return out.String()
}

// runCliMt types the commands into cli_mt one at a time: it sends each request
// asynchronously, so a pause keeps one command's completion ahead of the next command.
func runCliMt(t *testing.T, target Target, lines []string) string {
	t.Helper()
	cmd := exec.Command(cliMtPath, target.Addr)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start(), "starting cli_mt")
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.After(clientRunMax)
	for i, l := range lines {
		fmt.Fprintln(stdin, l)
		if i == len(lines)-1 {
			break // quit
		}
		select {
		case err := <-done:
			t.Fatalf("cli_mt against %s exited before %q (%v):\n%s", target.Name, lines[i+1], err, out.String())
		default:
		}
		out.waitQuiet(cliMtQuiet, cliMtLineMax)
	}
	_ = stdin.Close()
	select {
	case <-done:
	case <-deadline:
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("cli_mt against %s did not finish within %v:\n%s", target.Name, clientRunMax, out.String())
	}
	return out.String()
}

var (
	zkCliNoiseRE  = regexp.MustCompile(`^(SLF4J: |Connecting to |Welcome to ZooKeeper|JLine support)`)
	zkCliTimeRE   = regexp.MustCompile(`^([cm]time = ).*$`)
	zkCliZxidRE   = regexp.MustCompile(`^([cmp]Zxid = )0x[0-9a-f]+$`)
	zkCliOwnerRE  = regexp.MustCompile(`^(ephemeralOwner = )0x[0-9a-f]+$`)
	cliMtTimeRE   = regexp.MustCompile(`^time = \d+ msec$`)
	cliMtStampRE  = regexp.MustCompile(`^(\s*[cm]time ?= ?).*$`)
	cliMtZxidRE   = regexp.MustCompile(`^(\s*[cm]zxid=)[0-9a-f]+$`)
	cliMtOwnerRE  = regexp.MustCompile(`^(\s*ephemeralOwner = )[0-9a-f]+$`)
	cliMtSessRE   = regexp.MustCompile(`^Got a new session id: 0x[0-9a-f]+$`)
	javaLogLineRE = regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d`)
)

// normalizeZkCli masks times, zxids and session ids, replaces the run's prefix by "~", drops
// the JVM's log noise and moves the watcher notifications (printed by zkCli's event thread,
// so their place among the command outputs is a race) to a sorted list at the end.
func normalizeZkCli(out, prefix string) string {
	var lines, events []string
	for _, l := range strings.Split(strings.ReplaceAll(out, prefix, "~"), "\n") {
		l = strings.TrimRight(l, "\r")
		switch {
		case l == "" || l == "WATCHER::" || zkCliNoiseRE.MatchString(l) || javaLogLineRE.MatchString(l):
		case strings.HasPrefix(l, "WatchedEvent "):
			events = append(events, l)
		default:
			l = zkCliTimeRE.ReplaceAllString(l, "${1}<time>")
			l = zkCliZxidRE.ReplaceAllString(l, "${1}<zxid>")
			if !strings.HasSuffix(l, "= 0x0") {
				l = zkCliOwnerRE.ReplaceAllString(l, "${1}<session>")
			}
			lines = append(lines, l)
		}
	}
	slices.Sort(events)
	return strings.Join(lines, "\n") + "\n-- watcher events --\n" + strings.Join(events, "\n") + "\n"
}

// normalizeCliMt masks cli_mt's timings, times, zxids and session ids and the prefix, and
// sorts each listing of children: cli_mt prints them in the server's order, which ZooKeeper
// leaves unspecified (Apache's comes from a HashSet, zabd's is byte order).
func normalizeCliMt(out, prefix string) string {
	var lines, children []string
	flush := func() {
		slices.Sort(children)
		lines = append(lines, children...)
		children = children[:0]
	}
	for _, l := range strings.Split(strings.ReplaceAll(out, prefix, "~"), "\n") {
		if strings.HasPrefix(l, "\t") && !strings.Contains(l, "=") {
			children = append(children, l)
			continue
		}
		flush()
		switch {
		case l == "" || cliMtTimeRE.MatchString(l):
		case cliMtSessRE.MatchString(l):
			lines = append(lines, "Got a new session id: <session>")
		default:
			l = cliMtStampRE.ReplaceAllString(l, "${1}<time>")
			l = cliMtZxidRE.ReplaceAllString(l, "${1}<zxid>")
			if !strings.HasSuffix(l, "= 0") {
				l = cliMtOwnerRE.ReplaceAllString(l, "${1}<session>")
			}
			lines = append(lines, l)
		}
	}
	flush()
	return strings.Join(lines, "\n") + "\n"
}

// lockedBuffer collects a child process's output (written from exec's copying goroutine).
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *lockedBuffer) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Len()
}

// waitQuiet returns once the output has grown and then stayed unchanged for quiet, or after
// waitMax.
func (l *lockedBuffer) waitQuiet(quiet, waitMax time.Duration) {
	start, deadline := l.len(), time.Now().Add(waitMax)
	last, lastChange := start, time.Now()
	for time.Now().Before(deadline) {
		time.Sleep(quiet / 5)
		n := l.len()
		if n != last {
			last, lastChange = n, time.Now()
			continue
		}
		if n != start && time.Since(lastChange) >= quiet {
			return
		}
	}
}
