package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/stretchr/testify/require"
)

// mode asks a server for srvr's Mode line ("" when it does not answer).
func mode(addr string) string {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return ""
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	c.Write([]byte("srvr"))
	sc := bufio.NewScanner(c)
	for sc.Scan() {
		if m, ok := strings.CutPrefix(sc.Text(), "Mode: "); ok {
			return m
		}
	}
	return ""
}

// TestEnsembleOfProcessesSurvivesKillNineOfTheLeader: three zabd processes configured
// the way operators do (zoo.cfg with server.N lines, a myid file each); the leader is
// killed with SIGKILL under a write load and restarted; every acknowledged create is on
// every member afterwards.
func TestEnsembleOfProcessesSurvivesKillNineOfTheLeader(t *testing.T) {
	bin := buildZabd(t)
	dir := t.TempDir()
	var servers, clients []string
	for i := 1; i <= 3; i++ {
		servers = append(servers, fmt.Sprintf("server.%d=127.0.0.1:%d:%d", i, freePort(t), freePort(t)))
		clients = append(clients, fmt.Sprintf("127.0.0.1:%d", freePort(t)))
	}
	cfgs := make([]string, 3)
	for i := range 3 {
		data := filepath.Join(dir, fmt.Sprintf("s%d", i+1))
		require.NoError(t, os.MkdirAll(data, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(data, "myid"), []byte(fmt.Sprintf("%d\n", i+1)), 0o644))
		_, port, _ := net.SplitHostPort(clients[i])
		cfg := fmt.Sprintf("tickTime=100\ninitLimit=20\nsyncLimit=10\ndataDir=%s\nclientPort=%s\nclientPortAddress=127.0.0.1\n"+
			"maxSessionTimeout=6000\n4lw.commands.whitelist=srvr\nsnapCount=500\n%s\n", data, port, strings.Join(servers, "\n"))
		cfgs[i] = filepath.Join(dir, fmt.Sprintf("zoo%d.cfg", i+1))
		require.NoError(t, os.WriteFile(cfgs[i], []byte(cfg), 0o644))
	}
	procs := make([]*proc, 3)
	for i := range 3 {
		procs[i] = startZabd(t, bin, cfgs[i])
	}
	leader := waitLeader(t, clients)

	c, ev, err := zk.Connect(clients, 6*time.Second, zk.WithLogger(quiet{}))
	require.NoError(t, err, `zk.Connect(clients, 6*time.Second, zk.WithLogger(quiet{}))`)
	defer c.Close()
	waitSession(t, ev)
	_, err = c.Create("/crash", nil, 0, zk.WorldACL(zk.PermAll))
	require.NoError(t, err, `c.Create("/crash", nil, 0, zk.WorldACL(zk.PermAll))`)

	var mu sync.Mutex
	var acked []string
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				path := fmt.Sprintf("/crash/w%d-%d", w, i)
				if _, err := c.Create(path, nil, 0, zk.WorldACL(zk.PermAll)); err != nil {
					time.Sleep(20 * time.Millisecond) // connection loss: go-zk reconnects
					continue
				}
				mu.Lock()
				acked = append(acked, path)
				mu.Unlock()
			}
		}()
	}
	time.Sleep(500 * time.Millisecond)
	require.NoError(t, procs[leader].cmd.Process.Signal(syscall.SIGKILL))
	<-procs[leader].done
	t.Logf("killed the leader, server %d", leader+1)
	time.Sleep(1500 * time.Millisecond)
	procs[leader] = startZabd(t, bin, cfgs[leader])
	waitLeader(t, clients)
	time.Sleep(500 * time.Millisecond)
	close(stop)
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	require.Greater(t, len(acked), 50, "the load made too little progress to mean anything")

	for i, addr := range clients {
		m, ev, err := zk.Connect([]string{addr}, 6*time.Second, zk.WithLogger(quiet{}))
		require.NoError(t, err, `zk.Connect([]string{addr}, 6*time.Second, zk.WithLogger(quiet{}))`)
		waitSession(t, ev)
		_, err = m.Sync("/crash")
		require.NoError(t, err, `m.Sync("/crash")`)
		kids, _, err := m.Children("/crash")
		require.NoError(t, err, `m.Children("/crash")`)
		have := map[string]bool{}
		for _, k := range kids {
			have["/crash/"+k] = true
		}
		for _, p := range acked {
			require.True(t, have[p], "server %d lacks acknowledged create %s", i+1, p)
		}
		m.Close()
	}
	t.Logf("%d acknowledged creates on all three servers", len(acked))
}

// waitLeader waits until every server serves and one leads; it returns the leader's index.
func waitLeader(t *testing.T, clients []string) int {
	t.Helper()
	deadline := time.Now().Add(waitMax)
	for time.Now().Before(deadline) {
		leader, serving := -1, 0
		for i, a := range clients {
			switch mode(a) {
			case "leader":
				leader = i
				serving++
			case "follower":
				serving++
			}
		}
		if leader >= 0 && serving == len(clients) {
			return leader
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no serving ensemble with a leader within %v", waitMax)
	return -1
}

func waitSession(t *testing.T, ev <-chan zk.Event) {
	t.Helper()
	deadline := time.After(waitMax)
	for {
		select {
		case e := <-ev:
			if e.State == zk.StateHasSession {
				return
			}
		case <-deadline:
			t.Fatal("no session")
		}
	}
}
