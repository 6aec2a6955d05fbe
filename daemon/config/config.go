// Package config reads zoo.cfg, ZooKeeper's configuration file, as operators write it, and
// the myid file beside the data, into the settings zabd runs with.
//
// Keys zabkit knows are checked strictly: a bad value is an error naming the key, the value
// and the line. Keys it does not know, or knows but does not implement, are returned as
// warnings for the daemon to log: ZooKeeper turns unknown keys into system properties, so
// real files carry many of them, and refusing to start on one would break working setups.
package config

import (
	"fmt"
	"net"
	"slices"
	"strconv"
)

// Config is zabd's configuration. Times follow zoo.cfg: milliseconds and ticks.
type Config struct {
	TickMillis     int64 // tickTime
	InitLimitTicks int64 // initLimit (quorum mode only)
	SyncLimitTicks int64 // syncLimit (quorum mode only)

	DataDir    string // snapshots, epochs and the myid file
	DataLogDir string // the txn log; DataDir when not set

	// ClientAddr is the host:port the client listener binds (clientPortAddress and
	// clientPort, or this server's ";[host:]port" suffix on its server.N line); the host is
	// empty for all interfaces.
	ClientAddr string
	// MaxClientCnxns bounds concurrent connections from one IP; 0 means no limit.
	MaxClientCnxns int
	// Session timeouts a client may ask for are clamped into this range.
	MinSessionTimeoutMillis int64
	MaxSessionTimeoutMillis int64

	// Servers are the ensemble's server.N lines in id order; empty when standalone.
	Servers []Server
	// ServerID is this server's id from the myid file (1 for a standalone server without
	// one: zab reserves 0 for "no peer").
	ServerID uint64

	SnapCount          int   // txns between snapshots
	PreAllocBytes      int64 // log segment preallocation (preAllocSize, given in KiB)
	SnapRetainCount    int   // autopurge.snapRetainCount
	PurgeIntervalHours int   // autopurge.purgeInterval; 0 disables purging

	// FourLetterWords are the enabled 4lw commands, sorted (4lw.commands.whitelist; srvr is
	// always enabled).
	FourLetterWords []string
	// MetricsAddr is where Prometheus metrics are served (metricsProvider.httpHost and
	// httpPort), or empty when metricsProvider.className does not name the Prometheus
	// provider.
	MetricsAddr string
	// SuperDigest is "super:<base64 sha1>" from zookeeper.DigestAuthenticationProvider.superDigest.
	SuperDigest string
	// ExtendedTypesEnabled allows TTL nodes (extendedTypesEnabled).
	ExtendedTypesEnabled bool
	// ContainerCheckIntervalMillis is how often the leader deletes empty containers and
	// expired TTL nodes (znode.container.checkIntervalMs, ZooKeeper's ContainerManager
	// system property; default 60000).
	ContainerCheckIntervalMillis int64
}

// Server is one server.N line: host:peerPort:electionPort[:participant|observer][;[clientHost:]clientPort].
type Server struct {
	ID       uint64
	Host     string
	PeerPort int // quorumPort in ZooKeeper's words: followers connect to the leader here
	// ElectionPort is accepted, checked (a valid port, not the peer port) and shown (conf,
	// /zookeeper/config) so that a ZooKeeper zoo.cfg loads unchanged, but zabd does not
	// listen on it: election and broadcast share one connection per pair of servers on the
	// peer port (daemon/peer).
	ElectionPort int
	Observer     bool
	ClientAddr   string // from the ";" suffix, empty when absent
}

// PeerAddr is host:peerPort.
func (s Server) PeerAddr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.PeerPort)) }

// ElectionAddr is host:electionPort.
func (s Server) ElectionAddr() string {
	return net.JoinHostPort(s.Host, strconv.Itoa(s.ElectionPort))
}

// ZooKeeper's defaults (QuorumPeerConfig, ServerCnxnFactory, SyncRequestProcessor,
// FilePadding, DatadirCleanupManager).
const (
	defaultTickMillis     = 3000
	defaultMaxClientCnxns = 60
	defaultSnapCount      = 100_000
	// defaultContainerCheckMillis is ContainerManager's znode.container.checkIntervalMs.
	defaultContainerCheckMillis = 60_000
	defaultPreAllocKiB          = 64 << 10
	snapRetainCountMin          = 3
	defaultMetricsPort          = 7000
	defaultMetricsHost          = "0.0.0.0"
	prometheusProviderClass     = "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider"
	defaultProviderClass        = "org.apache.zookeeper.metrics.impl.DefaultMetricsProvider"
	// serverIDMax keeps the id inside the top byte of a session id (ZooKeeper's
	// SessionTrackerImpl.initializeNextSession shifts it left by 56); extended types
	// (TTL nodes) reserve 255 (EphemeralType.MAX_EXTENDED_SERVER_ID is 254).
	serverIDMax         = 255
	serverIDMaxExtended = 254
)

// Default is the configuration zabd runs with when given no file: a standalone server on
// 127.0.0.1:2181 keeping its data in ./data.
func Default() Config {
	c := Config{
		TickMillis:      2000, // the sample zoo.cfg's value, which is what people run
		DataDir:         "data",
		DataLogDir:      "data",
		ClientAddr:      "127.0.0.1:2181",
		MaxClientCnxns:  defaultMaxClientCnxns,
		ServerID:        1,
		SnapCount:       defaultSnapCount,
		PreAllocBytes:   defaultPreAllocKiB << 10,
		SnapRetainCount: snapRetainCountMin,
		FourLetterWords: []string{"srvr"},

		ContainerCheckIntervalMillis: defaultContainerCheckMillis,
	}
	c.MinSessionTimeoutMillis = 2 * c.TickMillis
	c.MaxSessionTimeoutMillis = 20 * c.TickMillis
	return c
}

// Standalone reports whether the server runs alone: no participant besides itself.
func (c Config) Standalone() bool {
	n := 0
	for _, s := range c.Servers {
		if !s.Observer {
			n++
		}
	}
	return n == 0
}

// Voters are the ids of the participants, sorted (this server alone when standalone).
func (c Config) Voters() []uint64 {
	var ids []uint64
	for _, s := range c.Servers {
		if !s.Observer {
			ids = append(ids, s.ID)
		}
	}
	if len(ids) == 0 {
		return []uint64{c.ServerID}
	}
	return ids
}

// Observers are the ids of the observers, sorted.
func (c Config) Observers() []uint64 {
	var ids []uint64
	for _, s := range c.Servers {
		if s.Observer {
			ids = append(ids, s.ID)
		}
	}
	return ids
}

// Self returns this server's server.N entry.
func (c Config) Self() (Server, bool) {
	i := slices.IndexFunc(c.Servers, func(s Server) bool { return s.ID == c.ServerID })
	if i < 0 {
		return Server{}, false
	}
	return c.Servers[i], true
}

// FourLetterWordEnabled reports whether the 4lw command word may run.
func (c Config) FourLetterWordEnabled(word string) bool {
	_, ok := slices.BinarySearch(c.FourLetterWords, word)
	return ok
}

// Error is a configuration the daemon must refuse to start with.
type Error struct {
	File   string // empty when parsing a reader
	Line   int    // 0 when the problem is not on one line (a missing key)
	Key    string
	Value  string
	Reason string
}

func (e *Error) Error() string {
	where := e.File
	if where == "" {
		where = "zoo.cfg"
	}
	if e.Line > 0 {
		where = fmt.Sprintf("%s:%d", where, e.Line)
	}
	switch {
	case e.Key == "":
		return fmt.Sprintf("%s: %s", where, e.Reason)
	case e.Line == 0:
		return fmt.Sprintf("%s: %s: %s", where, e.Key, e.Reason)
	}
	return fmt.Sprintf("%s: %s=%q: %s", where, e.Key, e.Value, e.Reason)
}

// Warning is a line the daemon ignores; the caller logs it.
type Warning struct {
	Line    int
	Key     string
	Message string
}

func (w Warning) String() string {
	if w.Line == 0 {
		return fmt.Sprintf("%s: %s", w.Key, w.Message)
	}
	return fmt.Sprintf("line %d: %s: %s", w.Line, w.Key, w.Message)
}
