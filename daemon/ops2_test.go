package daemon

import (
	"slices"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zabkit/zabkit/daemon/config"
	"github.com/zabkit/zabkit/zab/tree"
	"github.com/zabkit/zabkit/zab/wire"
)

// TestSetACLTTLAndGetEphemerals covers what TestOps leaves out, on a 3-server ensemble:
// setACL (with its version check and its effect on other sessions), TTL nodes (created
// with go-zookeeper's CreateTTL, deleted by the leader once expired), and getEphemerals
// (which go-zookeeper does not offer; a raw session asks).
func TestSetACLTTLAndGetEphemerals(t *testing.T) {
	t.Parallel() // mostly waits on timers: overlaps with the other waiting tests
	e := startEnsemble(t, 3, func(c *config.Config) {
		c.ExtendedTypesEnabled = true
		c.ContainerCheckIntervalMillis = 100 // the leader reaps expired TTL nodes every tick
	})
	addrs := e.Addrs()

	t.Run("setACL", func(t *testing.T) {
		owner, _ := connect(t, addrs[:1], 4*time.Second)
		require.NoError(t, owner.AddAuth("digest", []byte("carol:pw")), "carol's auth")
		_, err := owner.Create("/acl", []byte("d"), 0, zk.WorldACL(zk.PermAll))
		require.NoError(t, err, "create /acl open to the world")
		other, _ := connect(t, addrs[1:2], 4*time.Second)
		_, _, err = other.Get("/acl")
		require.NoError(t, err, "another session reads /acl while it is open")

		_, err = owner.SetACL("/acl", zk.DigestACL(zk.PermAll, "carol", "pw"), 5)
		assert.ErrorIs(t, err, zk.ErrBadVersion, "setACL with a wrong aversion")
		st, err := owner.SetACL("/acl", zk.DigestACL(zk.PermAll, "carol", "pw"), 0)
		require.NoError(t, err, "setACL to carol's digest at aversion 0")
		assert.Equal(t, int32(1), st.Aversion, "setACL bumps the ACL version")

		acl, _, err := owner.GetACL("/acl")
		require.NoError(t, err, "getACL /acl")
		require.Len(t, acl, 1, "one ACL entry")
		assert.Equal(t, "digest", acl[0].Scheme, "the new ACL's scheme")
		_, err = other.Sync("/acl")
		require.NoError(t, err, "sync on the other member")
		_, _, err = other.Get("/acl")
		assert.ErrorIs(t, err, zk.ErrNoAuth, "the other session lost read access with the new ACL")
		data, _, err := owner.Get("/acl")
		require.NoError(t, err, "carol still reads /acl")
		assert.Equal(t, "d", string(data))
		_, err = other.SetACL("/acl", zk.WorldACL(zk.PermAll), -1)
		assert.ErrorIs(t, err, zk.ErrNoAuth, "setACL without ADMIN permission")
	})

	t.Run("CreateTTL", func(t *testing.T) {
		c, _ := connect(t, addrs[1:2], 4*time.Second)
		const ttl = 300 * time.Millisecond
		p, err := c.CreateTTL("/ttl", []byte("t"), zk.FlagTTL, zk.WorldACL(zk.PermAll), ttl)
		require.NoError(t, err, "CreateTTL /ttl")
		assert.Equal(t, "/ttl", p)
		created := time.Now()
		ok, _, err := c.Exists("/ttl")
		require.NoError(t, err, "exists /ttl")
		require.True(t, ok, "the TTL node exists right after its creation")
		for {
			ok, _, err := c.Exists("/ttl")
			require.NoError(t, err, "exists /ttl")
			if !ok {
				break
			}
			require.Less(t, time.Since(created), waitMax, "the TTL node of %v still exists after %v", ttl, waitMax)
			time.Sleep(20 * time.Millisecond)
		}
		assert.GreaterOrEqual(t, time.Since(created), ttl, "a TTL node must not go before its TTL")
		_, err = c.CreateTTL("/ttl-bad", nil, zk.FlagTTL, zk.WorldACL(zk.PermAll), 0)
		assert.Error(t, err, "a TTL of 0 is refused")
	})

	t.Run("getEphemerals", func(t *testing.T) {
		s := &rawSession{addrs: addrs[2:3], timeoutMs: 4000}
		require.NoError(t, s.connect(), "raw session on s3")
		defer s.close()
		for _, p := range []string{"/eph", "/eph/a", "/eph-b", "/other"} {
			mode := wire.ModeEphemeral
			if p == "/eph" {
				mode = wire.ModePersistent // a parent for /eph/a
			}
			_, rep, err := s.call(wire.OpCreate, &wire.CreateRequest{Path: p, ACL: tree.OpenACL, Flags: mode})
			require.NoError(t, err, "raw create %s", p)
			require.Equal(t, wire.ErrOK, rep.Header.Err, "raw create %s", p)
		}
		for _, tc := range []struct {
			prefix string
			want   []string
		}{
			{"/", []string{"/eph-b", "/eph/a", "/other"}},
			{"/eph", []string{"/eph-b", "/eph/a"}},
			{"/eph/", []string{"/eph/a"}},
			{"/none", []string{}},
		} {
			_, rep, err := s.call(wire.OpGetEphemerals, &wire.GetEphemeralsRequest{PrefixPath: tc.prefix})
			require.NoError(t, err, "getEphemerals %q", tc.prefix)
			require.Equal(t, wire.ErrOK, rep.Header.Err, "getEphemerals %q", tc.prefix)
			got := slices.Clone(rep.Body.(*wire.GetEphemeralsResponse).Ephemerals)
			slices.Sort(got)
			assert.Equal(t, tc.want, got, "the session's ephemerals under %q", tc.prefix)
		}
	})
}
