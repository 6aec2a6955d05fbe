package daemon

import (
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/stretchr/testify/require"
)

func TestStandaloneCreateAndGet(t *testing.T) {
	e := startEnsemble(t, 1)
	c, _ := connect(t, e.Addrs(), 2*time.Second)
	p, err := c.Create("/a", []byte("hello"), 0, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	require.Equal(t, "/a", p)
	data, st, err := c.Get("/a")
	require.NoError(t, err)
	require.Equal(t, "hello", string(data))
	require.Equal(t, int32(0), st.Version)
}
