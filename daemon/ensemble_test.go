package daemon

import (
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/stretchr/testify/require"
)

func TestEnsembleWritesOnOneMemberAreReadOnAll(t *testing.T) {
	e := startEnsemble(t, 3)
	addrs := e.Addrs()
	w, _ := connect(t, addrs[:1], 2*time.Second)
	_, err := w.Create("/x", []byte("v1"), 0, zk.WorldACL(zk.PermAll))
	require.NoError(t, err)
	for i, a := range addrs {
		r, _ := connect(t, []string{a}, 2*time.Second)
		_, err := r.Sync("/x")
		require.NoError(t, err, "sync on member %d", i+1)
		data, _, err := r.Get("/x")
		require.NoError(t, err, "member %d", i+1)
		require.Equal(t, "v1", string(data), "member %d after sync", i+1)
	}
}
