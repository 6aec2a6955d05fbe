package conformance

import (
	"fmt"
	"strings"
)

// Settings are the server settings both sides of a differential run must share (issue 8: "the
// same settings are applied to both servers"). They use ZooKeeper's own names so that the
// generated zoo.cfg serves Apache ZooKeeper and zabd alike (zk-protocol.md §12).
type Settings struct {
	// TickTimeMs is ZooKeeper's tickTime; session expiry is rounded up to it (§2.6) and the
	// default maxSessionTimeout is 20 ticks.
	TickTimeMs int
	// MinSessionTimeoutMs is minSessionTimeout (issue 8: down to 1 s for client test harnesses).
	MinSessionTimeoutMs int
	// MaxSessionTimeoutMs is maxSessionTimeout. The runs keep it above their length: a
	// session that loses its connection then either expires at a known point (short
	// sessions, see run.go) or only after the run.
	MaxSessionTimeoutMs int
	// SuperDigest is zookeeper.DigestAuthenticationProvider.superDigest, "super:<base64 sha1>".
	SuperDigest string
	// ExtendedTypes is zookeeper.extendedTypesEnabled: TTL nodes (§6.1).
	ExtendedTypes bool
	// FourLetterWhitelist is 4lw.commands.whitelist ("*" = every command, §11.2).
	FourLetterWhitelist string
	// ContainerCheckIntervalMs is the reaper period of container and TTL nodes
	// (znode.container.checkIntervalMs, default 60 000, §6.1). Reaping runs on each server's
	// own clock, so within a differential run it would strike at different steps on the two
	// targets; the runs set it far beyond their length.
	ContainerCheckIntervalMs int
}

// SuperPassword is the password whose digest DefaultSettings.SuperDigest holds: "super:test"
// gives super:D/InIHSb7yEEbrWz8b9l71RjZJU= (the value go-zookeeper/zk's own integration tests
// use, so client test suites can run against either server).
const SuperPassword = "test"

// DefaultSettings are the settings of every conformance run.
var DefaultSettings = Settings{
	TickTimeMs:               500,
	MinSessionTimeoutMs:      1000,
	MaxSessionTimeoutMs:      60000,
	SuperDigest:              "super:D/InIHSb7yEEbrWz8b9l71RjZJU=",
	ExtendedTypes:            true,
	FourLetterWhitelist:      "*",
	ContainerCheckIntervalMs: 24 * 3600 * 1000,
}

// Member is one server of an ensemble as zoo.cfg's server.N line names it.
type Member struct {
	ID           int
	QuorumPort   int
	ElectionPort int
	ClientPort   int
}

// ZooCfg renders a zoo.cfg for one server. members is empty for a standalone server. Keys
// that are system properties in Apache ZooKeeper (extendedTypesEnabled, superDigest) are
// written under their zoo.cfg fallback names as well, which the reference turns into
// zookeeper.<key> properties (§12.1) and zabd's daemon/config parses; the Apache launcher
// also passes them as -D flags because superDigest is read in a static initialiser.
func (s Settings) ZooCfg(dataDir string, clientPort int, members []Member) string {
	var b strings.Builder
	fmt.Fprintf(&b, "tickTime=%d\n", s.TickTimeMs)
	fmt.Fprintf(&b, "dataDir=%s\n", dataDir)
	fmt.Fprintf(&b, "clientPort=%d\n", clientPort)
	b.WriteString("clientPortAddress=127.0.0.1\n")
	fmt.Fprintf(&b, "minSessionTimeout=%d\n", s.MinSessionTimeoutMs)
	fmt.Fprintf(&b, "maxSessionTimeout=%d\n", s.MaxSessionTimeoutMs)
	fmt.Fprintf(&b, "4lw.commands.whitelist=%s\n", s.FourLetterWhitelist)
	fmt.Fprintf(&b, "extendedTypesEnabled=%t\n", s.ExtendedTypes)
	if s.SuperDigest != "" {
		fmt.Fprintf(&b, "DigestAuthenticationProvider.superDigest=%s\n", s.SuperDigest)
	}
	// A system property in Apache ZooKeeper (passed as -D by the launcher); written here so
	// that zabd reads the same value from the same file.
	fmt.Fprintf(&b, "znode.container.checkIntervalMs=%d\n", s.ContainerCheckIntervalMs)
	// The AdminServer would bind 0.0.0.0:8080, which collides between instances and is not
	// part of the client protocol (§11.5).
	b.WriteString("admin.enableServer=false\n")
	// Tests must not leave snapshots behind, and preallocating 64 MB per log is slow on CI.
	b.WriteString("preAllocSize=1024\n")
	if len(members) > 0 {
		b.WriteString("initLimit=10\nsyncLimit=5\n")
		for _, m := range members {
			fmt.Fprintf(&b, "server.%d=127.0.0.1:%d:%d;127.0.0.1:%d\n", m.ID, m.QuorumPort, m.ElectionPort, m.ClientPort)
		}
	}
	return b.String()
}
