package daemon

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/stretchr/testify/require"

	"github.com/zabkit/zabkit/daemon/config"
)

func TestEnsembleWritesOnOneMemberAreReadOnAll(t *testing.T) {
	e := startEnsemble(t, 3)
	addrs := e.Addrs()
	w, _ := connect(t, addrs[:1], 2*time.Second)
	_, err := w.Create("/x", []byte("v1"), 0, zk.WorldACL(zk.PermAll))
	require.NoError(t, err, `w.Create("/x", []byte("v1"), 0, zk.WorldACL(zk.PermAll))`)
	for i, a := range addrs {
		r, _ := connect(t, []string{a}, 2*time.Second)
		_, err := r.Sync("/x")
		require.NoError(t, err, "sync on member %d", i+1)
		data, _, err := r.Get("/x")
		require.NoError(t, err, "member %d", i+1)
		require.Equal(t, "v1", string(data), "member %d after sync", i+1)
	}
}

// TestEnsembleConfigsParse: the configs StartEnsemble builds (what `zabd dev` runs) are ones
// the zoo.cfg parser accepts: written out as zoo.cfg lines, each member's parses back to
// the same servers.
func TestEnsembleConfigsParse(t *testing.T) {
	e := startEnsemble(t, 3)
	for i := range e.Servers {
		c := e.Config(i)
		text := fmt.Sprintf("tickTime=%d\ninitLimit=%d\nsyncLimit=%d\ndataDir=%s\nclientPort=%d\n%s\n",
			c.TickMillis, c.InitLimitTicks, c.SyncLimitTicks, c.DataDir, e.Servers[i].ClientAddr().(*net.TCPAddr).Port,
			strings.TrimSuffix(string(dynamicConfig(c)), "version=0"))
		parsed, _, err := config.Parse(strings.NewReader(text), c.ServerID)
		require.NoError(t, err, "member %d's config must parse as zoo.cfg:\n%s", i+1, text)
		require.Equal(t, c.Servers, parsed.Servers, "member %d: the server lines round-trip", i+1)
		for _, s := range c.Servers {
			require.NotEqual(t, s.PeerPort, s.ElectionPort, "server %d: peer and election ports must differ", s.ID)
		}
	}
}
