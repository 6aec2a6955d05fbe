package main

import (
	"bufio"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/stretchr/testify/require"
)

// TestDevRunsAThreeServerEnsemble: `zabd dev -n 3` starts a 3-server ensemble in one process,
// prints its connect string, serves writes that every member reads, keeps its data in -dir
// (zoo.cfg-like member directories), and stops with exit 0 on SIGTERM.
func TestDevRunsAThreeServerEnsemble(t *testing.T) {
	t.Parallel() // its own ports and directories
	bin := buildZabd(t)
	dir := t.TempDir()
	cmd := exec.Command(bin, "dev", "-n", "3", "-dir", dir, "-log-level", "warn")
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err, "zabd dev's stdout")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start(), "starting zabd dev")
	done := make(chan error, 1)
	t.Cleanup(func() {
		cmd.Process.Kill()
		if t.Failed() {
			t.Logf("zabd dev stderr:\n%s", stderr.String())
		}
	})

	lines := make(chan string, 8)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		done <- cmd.Wait()
	}()
	var connectString string
	for connectString == "" {
		select {
		case line, ok := <-lines:
			require.True(t, ok, "zabd dev exited before printing its connect string")
			if rest, found := strings.CutPrefix(line, "connect string: "); found {
				connectString = rest
			}
		case <-time.After(waitMax):
			t.Fatalf("zabd dev printed no connect string within %v", waitMax)
		}
	}
	addrs := strings.Split(connectString, ",")
	require.Len(t, addrs, 3, "three servers in %q", connectString)

	w := dial(t, addrs[0])
	_, err = w.Create("/dev", []byte("up"), 0, zk.WorldACL(zk.PermAll))
	require.NoError(t, err, "create /dev through s1")
	w.Close()
	modes := map[string]int{}
	for i, a := range addrs {
		waitUp(t, a)
		modes[mode(a)]++
		r := dial(t, a)
		_, err := r.Sync("/dev")
		require.NoError(t, err, "sync on s%d", i+1)
		data, _, err := r.Get("/dev")
		require.NoError(t, err, "read /dev on s%d", i+1)
		require.Equal(t, "up", string(data), "s%d reads the write", i+1)
		r.Close()
	}
	require.Equal(t, map[string]int{"leader": 1, "follower": 2}, modes, "one leader and two followers")
	for i := 1; i <= 3; i++ {
		logs, err := filepath.Glob(filepath.Join(dir, "s"+string(rune('0'+i)), "*"))
		require.NoError(t, err, "listing s%d's data", i)
		require.NotEmpty(t, logs, "member s%d keeps its data under -dir", i)
	}

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM), "SIGTERM to zabd dev")
	select {
	case err := <-done:
		require.NoError(t, err, "zabd dev must exit 0 on SIGTERM")
	case <-time.After(waitMax):
		t.Fatalf("zabd dev did not exit within %v of SIGTERM", waitMax)
	}
}
