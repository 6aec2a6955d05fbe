package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/stretchr/testify/require"
)

const waitMax = 30 * time.Second

// buildZabd compiles the command into a temporary directory.
func buildZabd(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "zabd")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err, `net.Listen("tcp", "127.0.0.1:0")`)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// standaloneConfig writes a zoo.cfg for a standalone server with fast ticks.
func standaloneConfig(t *testing.T, dir string, port int) string {
	t.Helper()
	cfg := fmt.Sprintf("tickTime=100\ndataDir=%s\nclientPort=%d\nclientPortAddress=127.0.0.1\n"+
		"maxSessionTimeout=4000\n4lw.commands.whitelist=ruok,srvr\nsnapCount=200\n", filepath.Join(dir, "data"), port)
	path := filepath.Join(dir, "zoo.cfg")
	require.NoError(t, os.WriteFile(path, []byte(cfg), 0o644))
	return path
}

type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

func startZabd(t *testing.T, bin string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(bin, args...)
	logf, err := os.Create(filepath.Join(t.TempDir(), "zabd.log"))
	require.NoError(t, err, `os.Create(filepath.Join(t.TempDir(), "zabd.log"))`)
	cmd.Stdout, cmd.Stderr = logf, logf
	require.NoError(t, cmd.Start(), "starting zabd")
	p := &proc{cmd: cmd, done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); logf.Close(); close(p.done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("zabd log:\n%s", b)
		}
	})
	return p
}

// waitUp waits until the server answers ruok.
func waitUp(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(waitMax)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.SetDeadline(time.Now().Add(time.Second))
			c.Write([]byte("srvr"))
			line, _ := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if strings.HasPrefix(line, "Zookeeper version") {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("zabd at %s did not come up within %v", addr, waitMax)
}

type quiet struct{}

func (quiet) Printf(string, ...any) {}

func dial(t *testing.T, addr string) *zk.Conn {
	t.Helper()
	c, ev, err := zk.Connect([]string{addr}, 4*time.Second, zk.WithLogger(quiet{}))
	require.NoError(t, err, `zk.Connect([]string{addr}, 4*time.Second, zk.WithLogger(quiet{}))`)
	deadline := time.After(waitMax)
	for {
		select {
		case e := <-ev:
			if e.State == zk.StateHasSession {
				return c
			}
		case <-deadline:
			t.Fatalf("no session with %s", addr)
		}
	}
}

// TestKillNineLosesNoAcknowledgedWrite: zabd runs as its own process under a write load
// from several sessions and is killed with SIGKILL, three times; after each restart every
// create that was acknowledged is there.
func TestKillNineLosesNoAcknowledgedWrite(t *testing.T) {
	bin := buildZabd(t)
	dir := t.TempDir()
	port := freePort(t)
	cfg := standaloneConfig(t, dir, port)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	var acked []string
	for round := range 3 {
		p := startZabd(t, bin, cfg)
		waitUp(t, addr)
		c := dial(t, addr)
		// Everything acknowledged before this start must be here.
		for _, path := range acked {
			ok, _, err := c.Exists(path)
			require.NoError(t, err, `c.Exists(path)`)
			require.True(t, ok, "round %d: acknowledged create %s lost after kill -9", round, path)
		}
		if round == 0 {
			_, err := c.Create("/crash", nil, 0, zk.WorldACL(zk.PermAll))
			require.NoError(t, err, `c.Create("/crash", nil, 0, zk.WorldACL(zk.PermAll))`)
		}
		var mu sync.Mutex
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					path := fmt.Sprintf("/crash/r%d-w%d-%d", round, w, i)
					if _, err := c.Create(path, []byte("x"), 0, zk.WorldACL(zk.PermAll)); err != nil {
						return // the server died under us
					}
					mu.Lock()
					acked = append(acked, path)
					mu.Unlock()
				}
			}()
		}
		time.Sleep(300 * time.Millisecond)
		require.NoError(t, p.cmd.Process.Signal(syscall.SIGKILL), "SIGKILL to zabd")
		<-p.done
		wg.Wait()
		c.Close()
		t.Logf("round %d: %d creates acknowledged so far", round, len(acked))
	}
	p := startZabd(t, bin, cfg)
	waitUp(t, addr)
	c := dial(t, addr)
	defer c.Close()
	kids, _, err := c.Children("/crash")
	require.NoError(t, err, `c.Children("/crash")`)
	have := map[string]bool{}
	for _, k := range kids {
		have["/crash/"+k] = true
	}
	for _, path := range acked {
		require.True(t, have[path], "acknowledged create %s lost after kill -9", path)
	}
	require.Greater(t, len(acked), 100, "the load made too little progress to mean anything")
	snaps, err := filepath.Glob(filepath.Join(dir, "data", "snapshot.*"))
	require.NoError(t, err, `filepath.Glob(filepath.Join(dir, "data", "snapshot.*"))`)
	require.NotEmpty(t, snaps, "snapCount=200 must have produced snapshots, so recovery used snapshot plus log")

	// SIGTERM: a graceful stop exits 0.
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM), "SIGTERM to zabd")
	select {
	case <-p.done:
		require.NoError(t, p.err, "zabd must exit 0 on SIGTERM")
	case <-time.After(waitMax):
		t.Fatalf("zabd did not exit within %v of SIGTERM", waitMax)
	}
}

// TestRefusesABadConfig: a bad value is refused with a message naming it, exit code 2.
func TestRefusesABadConfig(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "zoo.cfg")
	require.NoError(t, os.WriteFile(path, []byte("tickTime=fast\ndataDir="+dir+"\nclientPort=2181\n"), 0o644))
	var out strings.Builder
	code := run([]string{path}, &out, &out)
	require.Equal(t, 2, code, "exit code for a bad zoo.cfg; output:\n%s", out.String())
	require.Contains(t, out.String(), "tickTime")
}
