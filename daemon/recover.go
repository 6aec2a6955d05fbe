package daemon

import (
	crand "crypto/rand"
	"encoding/binary"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/zabkit/zabkit/daemon/config"
	"github.com/zabkit/zabkit/daemon/osfs"
	"github.com/zabkit/zabkit/zab"
	"github.com/zabkit/zabkit/zab/node"
	"github.com/zabkit/zabkit/zab/storage"
	"github.com/zabkit/zabkit/zab/tree"
)

// recoverStore opens the data and log directories and reads the durable state back with
// zab/storage, logging every repair it made. It refuses to start on damage storage will
// not repair: the operator decides.
func recoverStore(cfg config.Config, log *slog.Logger) (*storage.Store, *osfs.FS, node.Recovered, error) {
	dataFS, err := osfs.Open(cfg.DataDir)
	if err != nil {
		return nil, nil, node.Recovered{}, fmt.Errorf("daemon: dataDir: %w", err)
	}
	// The log gets its own FS even when it shares the directory: only log segments are
	// preallocated (preAllocSize), not every snapshot and epoch file.
	logDir := cfg.DataLogDir
	if logDir == "" {
		logDir = cfg.DataDir
	}
	var prealloc []osfs.Option
	if cfg.PreAllocBytes > 0 {
		prealloc = append(prealloc, osfs.WithPreallocation(cfg.PreAllocBytes))
	}
	logFS, err := osfs.Open(logDir, prealloc...)
	if err != nil {
		return nil, nil, node.Recovered{}, fmt.Errorf("daemon: dataLogDir: %w", err)
	}
	store, rec, err := storage.Recover(dataFS, logFS, storage.Config{SnapshotRetainCount: max(cfg.SnapRetainCount, 3)})
	if !rec.Report.Empty() {
		log.Warn("recovery repaired the disk", "report", rec.Report.String(), "bytesCut", rec.Report.BytesCut())
	}
	if err != nil {
		return nil, nil, node.Recovered{}, fmt.Errorf("daemon: recovery refused to start (fix or move the data by hand): %w", err)
	}
	out := node.Recovered{Zab: zab.Recovered{
		AcceptedEpoch: zab.Epoch(rec.AcceptedEpoch),
		CurrentEpoch:  zab.Epoch(rec.CurrentEpoch),
		SnapshotZxid:  zab.Zxid(rec.Snapshot.Zxid),
		Log:           make([]zab.Txn, len(rec.Entries)),
	}}
	if rec.HasSnapshot {
		out.Snapshot = rec.Snapshot.Data
	}
	for i, e := range rec.Entries {
		out.Zab.Log[i] = zab.Txn{Zxid: zab.Zxid(e.Zxid), Data: e.Data}
	}
	log.Info("recovered", "acceptedEpoch", rec.AcceptedEpoch, "currentEpoch", rec.CurrentEpoch,
		"snapshot", fmt.Sprintf("%#x", rec.Snapshot.Zxid), "logged", len(rec.Entries),
		"lastLogged", fmt.Sprintf("%#x", rec.LastLoggedZxid))
	return store, dataFS, out, nil
}

// nodeConfig maps zoo.cfg settings onto the node's configuration.
func nodeConfig(c config.Config) node.Config {
	ids := func(v []uint64) []zab.PeerID {
		out := make([]zab.PeerID, len(v))
		for i, id := range v {
			out[i] = zab.PeerID(id)
		}
		return out
	}
	ticks := func(ms int64) int64 { return max(1, (ms+c.TickMillis-1)/c.TickMillis) }
	nc := node.Config{
		ID:     zab.PeerID(c.ServerID),
		Voters: ids(c.Voters()), Observers: ids(c.Observers()),
		TickMillis:     c.TickMillis,
		InitLimitTicks: max(c.InitLimitTicks, 10),
		SyncLimitTicks: max(c.SyncLimitTicks, 5),
		Rand:           newRand(),
		Tree: tree.Config{
			ExtendedTypesEnabled: c.ExtendedTypesEnabled,
			DynamicConfig:        dynamicConfig(c),
		},
		MinSessionTimeoutTicks: ticks(c.MinSessionTimeoutMillis),
		MaxSessionTimeoutTicks: ticks(c.MaxSessionTimeoutMillis),
		SnapCount:              c.SnapCount,
		SuperDigest:            c.SuperDigest,
	}
	if c.ContainerCheckIntervalMillis > 0 {
		nc.ReapIntervalTicks = ticks(c.ContainerCheckIntervalMillis)
	}
	if c.InitLimitTicks > 0 {
		nc.InitLimitTicks = c.InitLimitTicks
	}
	if c.SyncLimitTicks > 0 {
		nc.SyncLimitTicks = c.SyncLimitTicks
	}
	return nc
}

// dynamicConfig is the text of /zookeeper/config: the server.N lines and a version, as
// ZooKeeper's QuorumVerifier prints them; empty for a standalone server. Every member
// derives it from the same zoo.cfg lines, so the replicas agree.
func dynamicConfig(c config.Config) []byte {
	if c.Standalone() {
		return nil
	}
	var b strings.Builder
	for _, s := range c.Servers {
		role := "participant"
		if s.Observer {
			role = "observer"
		}
		fmt.Fprintf(&b, "server.%d=%s:%d:%d:%s", s.ID, s.Host, s.PeerPort, s.ElectionPort, role)
		if s.ClientAddr != "" {
			b.WriteString(";" + s.ClientAddr)
		}
		b.WriteByte('\n')
	}
	b.WriteString("version=0")
	return []byte(b.String())
}

// rng is the node's only randomness: seeded from the OS once per start, so a restarted
// member draws a new incarnation and new session ids.
type rng struct{ r *rand.Rand }

func (g rng) Uint64() uint64 { return g.r.Uint64() }

func newRand() zab.Rand {
	var seed [16]byte
	if _, err := crand.Read(seed[:]); err != nil {
		panic("daemon: no OS randomness: " + err.Error())
	}
	return rng{rand.New(rand.NewPCG(binary.LittleEndian.Uint64(seed[:8]), binary.LittleEndian.Uint64(seed[8:])))}
}

// hexZxid prints a zxid as ZooKeeper's 4lw do: 0x, lower case, no padding.
func hexZxid(z zab.Zxid) string { return "0x" + strconv.FormatUint(uint64(z), 16) }
