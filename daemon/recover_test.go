package daemon

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/zabkit/zabkit/daemon/config"
	"github.com/zabkit/zabkit/zab"
	"github.com/zabkit/zabkit/zab/node"
)

func TestNodeConfigFromZooCfg(t *testing.T) {
	c := config.Default()
	c.TickMillis = 2000
	c.MinSessionTimeoutMillis, c.MaxSessionTimeoutMillis = 4000, 40001
	c.ServerID = 2
	c.Servers = []config.Server{
		{ID: 1, Host: "a", PeerPort: 2888, ElectionPort: 3888},
		{ID: 2, Host: "b", PeerPort: 2888, ElectionPort: 3888, ClientAddr: "b:2181"},
		{ID: 4, Host: "d", PeerPort: 2888, ElectionPort: 3888, Observer: true},
	}
	c.InitLimitTicks, c.SyncLimitTicks = 7, 3
	nc := nodeConfig(c)
	assert.Equal(t, zab.PeerID(2), nc.ID)
	assert.Equal(t, []zab.PeerID{1, 2}, nc.Voters)
	assert.Equal(t, []zab.PeerID{4}, nc.Observers)
	assert.Equal(t, int64(2), nc.MinSessionTimeoutTicks, "4000 ms at 2000 ms a tick")
	assert.Equal(t, int64(21), nc.MaxSessionTimeoutTicks, "40001 ms rounds up to whole ticks")
	assert.Equal(t, int64(7), nc.InitLimitTicks)
	assert.Equal(t, int64(3), nc.SyncLimitTicks)
	assert.Equal(t, "server.1=a:2888:3888:participant\nserver.2=b:2888:3888:participant;b:2181\n"+
		"server.4=d:2888:3888:observer\nversion=0", string(nc.Tree.DynamicConfig),
		"/zookeeper/config as QuorumVerifier prints it")

	standalone := nodeConfig(config.Default())
	assert.Equal(t, []zab.PeerID{1}, standalone.Voters)
	assert.Nil(t, standalone.Tree.DynamicConfig, "a standalone server has an empty /zookeeper/config")
}

func TestRefusesTheCoresBugSwitches(t *testing.T) {
	nc := nodeConfig(config.Default())
	assert.NoError(t, refuseBugs(nc), "zoo.cfg never switches a bug on")
	assert.Nil(t, nc.Buggify, "the daemon never sets a BUGGIFY hook")
	nc.Bugs.SyncWithoutQuorum = true
	nc.Bugs.Zab.AdvertiseLastApplied = true
	err := refuseBugs(nc)
	assert.ErrorContains(t, err, "refusing to start with the core's bug switches on: SyncWithoutQuorum, Zab.AdvertiseLastApplied")

	nc.Bugs = node.Bugs{}
	assert.NoError(t, refuseBugs(nc))
	nc.Buggify = alwaysFire{}
	assert.ErrorContains(t, refuseBugs(nc), "BUGGIFY")
}

// alwaysFire is a BUGGIFY hook that fires at every site.
type alwaysFire struct{}

func (alwaysFire) Fire(string) bool { return true }
