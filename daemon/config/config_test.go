package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func stringsReader(s string) *strings.Reader { return strings.NewReader(s) }

// zooSample is conf/zoo_sample.cfg as shipped with ZooKeeper 3.8 (comments shortened).
const zooSample = `# The number of milliseconds of each tick
tickTime=2000
# The number of ticks that the initial
# synchronization phase can take
initLimit=10
# The number of ticks that can pass between
# sending a request and getting an acknowledgement
syncLimit=5
# the directory where the snapshot is stored.
# do not use /tmp for storage, /tmp here is just
# example sakes.
dataDir=/tmp/zookeeper
# the port at which the clients will connect
clientPort=2181
# the maximum number of client connections.
# increase this if you need to handle more clients
#maxClientCnxns=60
#
# Be sure to read the maintenance section of the
# administrator guide before turning on autopurge.
#
# The number of snapshots to retain in dataDir
#autopurge.snapRetainCount=3
# Purge task interval in hours
# Set to "0" to disable auto purge feature
#autopurge.purgeInterval=1

## Metrics Providers
#
# https://prometheus.io Metrics Exporter
#metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider
#metricsProvider.httpHost=0.0.0.0
#metricsProvider.httpPort=7000
#metricsProvider.exportJvmInfo=true
`

// dockerStandalone is what the official zookeeper Docker image's entrypoint writes with
// its defaults.
const dockerStandalone = `dataDir=/data
dataLogDir=/datalog
tickTime=2000
initLimit=5
syncLimit=2
autopurge.snapRetainCount=3
autopurge.purgeInterval=0
maxClientCnxns=60
standaloneEnabled=true
admin.enableServer=true
server.1=localhost:2888:3888;2181
`

// dockerEnsemble is the Docker image's zoo.cfg for the 3-node docker-compose example, with
// the whitelist and Prometheus settings operators commonly add.
const dockerEnsemble = `dataDir=/data
dataLogDir=/datalog
tickTime=2000
initLimit=5
syncLimit=2
autopurge.snapRetainCount=5
autopurge.purgeInterval=24
maxClientCnxns=0
standaloneEnabled=true
admin.enableServer=false
4lw.commands.whitelist=srvr, mntr, ruok,conf
metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider
metricsProvider.httpPort=7070
metricsProvider.exportJvmInfo=true
server.1=zoo1:2888:3888;2181
server.2=zoo2:2888:3888;2181
server.3=zoo3:2888:3888;2181
`

// classicEnsemble is the pre-3.5 style: clientPort on its own line, an observer, IPv6.
const classicEnsemble = `tickTime = 3000
initLimit : 20
syncLimit 10
dataDir=/var/lib/zookeeper
dataLogDir=/var/log/zookeeper-txn
clientPort=2181
clientPortAddress=10.0.0.2
minSessionTimeout=4000
maxSessionTimeout=90000
snapCount=50000
preAllocSize=16384
zookeeper.DigestAuthenticationProvider.superDigest=super:D/InIHSb7yEEbrWz8b9l71RjZJU=
extendedTypesEnabled=true
server.1=10.0.0.1:2888:3888
server.2=10.0.0.2:2888:3888:participant
server.3=[fd00::3]:2888:3888
server.4=10.0.0.4:2888:3888:observer
`

// kafkaZookeeper is config/zookeeper.properties as shipped with Apache Kafka.
const kafkaZookeeper = `# the directory where the snapshot is stored.
dataDir=/tmp/zookeeper
# the port at which the clients will connect
clientPort=2181
# disable the per-ip limit on the number of connections since this is a non-production config
maxClientCnxns=0
# Disable the adminserver by default to avoid port conflicts.
# Set the port to something non-conflicting if choosing to enable this
admin.enableServer=false
# admin.serverPort=8080
`

func TestParseRealConfigs(t *testing.T) {
	sampleWant := Default()
	sampleWant.DataDir, sampleWant.DataLogDir = "/tmp/zookeeper", "/tmp/zookeeper"
	sampleWant.ClientAddr = ":2181"
	sampleWant.InitLimitTicks, sampleWant.SyncLimitTicks = 10, 5

	dockerWant := Default()
	dockerWant.DataDir, dockerWant.DataLogDir = "/data", "/datalog"
	dockerWant.ClientAddr = ":2181"
	dockerWant.InitLimitTicks, dockerWant.SyncLimitTicks = 5, 2

	ensembleWant := dockerWant
	ensembleWant.ServerID = 2
	ensembleWant.MaxClientCnxns = 0
	ensembleWant.SnapRetainCount, ensembleWant.PurgeIntervalHours = 5, 24
	ensembleWant.FourLetterWords = []string{"conf", "mntr", "ruok", "srvr"}
	ensembleWant.MetricsAddr = "0.0.0.0:7070"
	ensembleWant.Servers = []Server{
		{ID: 1, Host: "zoo1", PeerPort: 2888, ElectionPort: 3888, ClientAddr: ":2181"},
		{ID: 2, Host: "zoo2", PeerPort: 2888, ElectionPort: 3888, ClientAddr: ":2181"},
		{ID: 3, Host: "zoo3", PeerPort: 2888, ElectionPort: 3888, ClientAddr: ":2181"},
	}

	classicWant := Config{
		TickMillis: 3000, InitLimitTicks: 20, SyncLimitTicks: 10,
		DataDir: "/var/lib/zookeeper", DataLogDir: "/var/log/zookeeper-txn",
		ClientAddr: "10.0.0.2:2181", MaxClientCnxns: 60,
		MinSessionTimeoutMillis: 4000, MaxSessionTimeoutMillis: 90000,
		Servers: []Server{
			{ID: 1, Host: "10.0.0.1", PeerPort: 2888, ElectionPort: 3888},
			{ID: 2, Host: "10.0.0.2", PeerPort: 2888, ElectionPort: 3888},
			{ID: 3, Host: "fd00::3", PeerPort: 2888, ElectionPort: 3888},
			{ID: 4, Host: "10.0.0.4", PeerPort: 2888, ElectionPort: 3888, Observer: true},
		},
		ServerID: 2, SnapCount: 50000, PreAllocBytes: 16 << 20, SnapRetainCount: 3,
		FourLetterWords:      []string{"srvr"},
		SuperDigest:          "super:D/InIHSb7yEEbrWz8b9l71RjZJU=",
		ExtendedTypesEnabled: true,

		ContainerCheckIntervalMillis: 60_000,
	}

	kafkaWant := Default()
	kafkaWant.TickMillis = 3000
	kafkaWant.DataDir, kafkaWant.DataLogDir = "/tmp/zookeeper", "/tmp/zookeeper"
	kafkaWant.ClientAddr = ":2181"
	kafkaWant.MaxClientCnxns = 0
	kafkaWant.MinSessionTimeoutMillis, kafkaWant.MaxSessionTimeoutMillis = 6000, 60000

	tests := []struct {
		name        string
		src         string
		myid        uint64
		want        Config
		warningKeys []string
		standalone  bool
		voters, obs []uint64
		peer, elect string
	}{
		{name: "kafka zookeeper.properties", src: kafkaZookeeper, want: kafkaWant, standalone: true,
			voters: []uint64{1}, warningKeys: []string{"admin.enableServer"}},
		{name: "zoo_sample.cfg", src: zooSample, want: sampleWant, standalone: true, voters: []uint64{1}},
		{name: "docker standalone", src: dockerStandalone, myid: 1, want: dockerWant, standalone: true,
			voters: []uint64{1}, warningKeys: []string{"admin.enableServer"}},
		{name: "docker ensemble", src: dockerEnsemble, myid: 2, want: ensembleWant, voters: []uint64{1, 2, 3},
			warningKeys: []string{"admin.enableServer", "metricsProvider.exportJvmInfo"}, peer: "zoo2:2888", elect: "zoo2:3888"},
		{name: "classic ensemble with observer and IPv6", src: classicEnsemble, myid: 2, want: classicWant,
			voters: []uint64{1, 2, 3}, obs: []uint64{4}, peer: "10.0.0.2:2888", elect: "10.0.0.2:3888"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, warnings, err := Parse(stringsReader(tt.src), tt.myid)
			require.NoError(t, err)
			if tt.want.MinSessionTimeoutMillis == 0 {
				tt.want.MinSessionTimeoutMillis, tt.want.MaxSessionTimeoutMillis = 2*tt.want.TickMillis, 20*tt.want.TickMillis
			}
			assert.Equal(t, tt.want, got)
			var keys []string
			for _, w := range warnings {
				keys = append(keys, w.Key)
			}
			assert.Equal(t, tt.warningKeys, keys, "warnings: %v", warnings)
			assert.Equal(t, tt.standalone, got.Standalone())
			assert.Equal(t, tt.voters, got.Voters())
			assert.Equal(t, tt.obs, got.Observers())
			if tt.peer != "" {
				self, ok := got.Self()
				require.True(t, ok)
				assert.Equal(t, tt.peer, self.PeerAddr())
				assert.Equal(t, tt.elect, self.ElectionAddr())
			}
		})
	}
}

func TestDefaultIsStandaloneOnLoopback(t *testing.T) {
	c := Default()
	assert.Equal(t, "127.0.0.1:2181", c.ClientAddr)
	assert.Equal(t, "data", c.DataDir)
	assert.Equal(t, "data", c.DataLogDir)
	assert.True(t, c.Standalone())
	assert.Equal(t, []uint64{1}, c.Voters())
	assert.Equal(t, 2*c.TickMillis, c.MinSessionTimeoutMillis, "min session timeout is 2 ticks")
	assert.Equal(t, 20*c.TickMillis, c.MaxSessionTimeoutMillis, "max session timeout is 20 ticks")
	assert.True(t, c.FourLetterWordEnabled("srvr"))
	assert.False(t, c.FourLetterWordEnabled("ruok"), "ruok is off by default, as in ZooKeeper")
}

const minimal = "dataDir=/d\nclientPort=2181\n"

func TestParseSettings(t *testing.T) {
	tests := []struct {
		name  string
		src   string
		myid  uint64
		check func(t *testing.T, c Config)
	}{
		{"tickTime default is 3000 in code", minimal, 0, func(t *testing.T, c Config) {
			assert.Equal(t, int64(3000), c.TickMillis)
			assert.Equal(t, int64(6000), c.MinSessionTimeoutMillis)
			assert.Equal(t, int64(60000), c.MaxSessionTimeoutMillis)
		}},
		{"session bounds follow tickTime", minimal + "tickTime=500", 0, func(t *testing.T, c Config) {
			assert.Equal(t, int64(1000), c.MinSessionTimeoutMillis)
			assert.Equal(t, int64(10000), c.MaxSessionTimeoutMillis)
		}},
		{"-1 means the default", minimal + "minSessionTimeout=-1\nmaxSessionTimeout=-1\ntickTime=100", 0, func(t *testing.T, c Config) {
			assert.Equal(t, int64(200), c.MinSessionTimeoutMillis)
			assert.Equal(t, int64(2000), c.MaxSessionTimeoutMillis)
		}},
		{"whitelist star", minimal + "4lw.commands.whitelist=*", 0, func(t *testing.T, c Config) {
			assert.Equal(t, fourLetterWords, c.FourLetterWords)
		}},
		{"whitelist keeps srvr", minimal + "4lw.commands.whitelist=ruok", 0, func(t *testing.T, c Config) {
			assert.Equal(t, []string{"ruok", "srvr"}, c.FourLetterWords)
		}},
		{"dataLogDir defaults to dataDir", minimal, 0, func(t *testing.T, c Config) {
			assert.Equal(t, "/d", c.DataLogDir)
		}},
		{"standalone myid is kept", minimal, 7, func(t *testing.T, c Config) {
			assert.Equal(t, uint64(7), c.ServerID)
		}},
		{"snapCount below 2 becomes 2", minimal + "snapCount=1", 0, func(t *testing.T, c Config) {
			assert.Equal(t, 2, c.SnapCount)
		}},
		{"snapRetainCount below 3 becomes 3", minimal + "autopurge.snapRetainCount=1", 0, func(t *testing.T, c Config) {
			assert.Equal(t, 3, c.SnapRetainCount)
		}},
		{"negative purgeInterval disables purging", minimal + "autopurge.purgeInterval=-5", 0, func(t *testing.T, c Config) {
			assert.Equal(t, 0, c.PurgeIntervalHours)
		}},
		{"metrics defaults", minimal + "metricsProvider.className=" + prometheusProviderClass, 0, func(t *testing.T, c Config) {
			assert.Equal(t, "0.0.0.0:7000", c.MetricsAddr)
		}},
		{"metrics host", minimal + "metricsProvider.className=" + prometheusProviderClass + "\nmetricsProvider.httpHost=127.0.0.1\nmetricsProvider.httpPort=9141", 0, func(t *testing.T, c Config) {
			assert.Equal(t, "127.0.0.1:9141", c.MetricsAddr)
		}},
		{"default metrics provider serves nothing", minimal + "metricsProvider.className=" + defaultProviderClass, 0, func(t *testing.T, c Config) {
			assert.Empty(t, c.MetricsAddr)
		}},
		{"superDigest through the zoo.cfg fallback name", minimal + "DigestAuthenticationProvider.superDigest=super:abc=", 0, func(t *testing.T, c Config) {
			assert.Equal(t, "super:abc=", c.SuperDigest)
		}},
		{"clientPortAddress with server line client port", "dataDir=/d\nclientPortAddress=127.0.0.1\nserver.1=h:1:2;2182", 1, func(t *testing.T, c Config) {
			assert.Equal(t, ":2182", c.ClientAddr, "the server line's client address wins when clientPort is not set")
		}},
		{"server line client host", "dataDir=/d\nserver.1=h:1:2;127.0.0.1:2182\nserver.2=h:3:4\ninitLimit=5\nsyncLimit=2", 1, func(t *testing.T, c Config) {
			assert.Equal(t, "127.0.0.1:2182", c.ClientAddr)
			assert.False(t, c.Standalone())
		}},
		{"one participant with standaloneEnabled=false is an ensemble of one", "dataDir=/d\nclientPort=1\nstandaloneEnabled=false\ninitLimit=5\nsyncLimit=2\nserver.3=h:1:2", 3, func(t *testing.T, c Config) {
			assert.False(t, c.Standalone())
			assert.Equal(t, []uint64{3}, c.Voters())
		}},
		{"single server line runs standalone", "dataDir=/d\nclientPort=1\nserver.3=h:1:2", 3, func(t *testing.T, c Config) {
			assert.True(t, c.Standalone())
			assert.Equal(t, uint64(3), c.ServerID)
			assert.Equal(t, []uint64{3}, c.Voters())
		}},
		{"observer type is case-insensitive", "dataDir=/d\nclientPort=1\ninitLimit=5\nsyncLimit=2\nserver.1=h:1:2\nserver.2=h:3:4:OBSERVER\nserver.3=h:5:6", 2, func(t *testing.T, c Config) {
			assert.Equal(t, []uint64{2}, c.Observers())
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, err := Parse(stringsReader(tt.src), tt.myid)
			require.NoError(t, err, "config:\n%s", tt.src)
			tt.check(t, c)
		})
	}
}

func TestWarnings(t *testing.T) {
	src := minimal + `
someUnknownKey=1
clientPort=2182
4lw.commands.whitelist=ruok, bogus
metricsProvider.httpPort=7000
forceSync=no
snapCount=0
`
	c, warnings, err := Parse(stringsReader(src), 0)
	require.NoError(t, err)
	assert.Equal(t, ":2182", c.ClientAddr, "the last clientPort wins")
	var got []string
	for _, w := range warnings {
		got = append(got, w.String())
	}
	assert.Contains(t, got, "line 5: clientPort: set again (first on line 2); the last value wins")
	assert.Contains(t, got, "line 4: someUnknownKey: unknown key; ignored")
	assert.Contains(t, got, "line 6: 4lw.commands.whitelist: \"bogus\" is not a four-letter word command; ignored")
	assert.Contains(t, got, "line 7: metricsProvider.httpPort: has no effect without metricsProvider.className="+prometheusProviderClass)
	assert.Contains(t, got, "line 8: forceSync: not implemented (zabd always fsyncs the log); ignored")
	assert.Contains(t, got, "line 9: snapCount: 0 is below 2; using 2 (as ZooKeeper does)")
	assert.Len(t, got, 6)
}

// TestContainerKeys: ZooKeeper reads the znode.container.* settings as system properties,
// which deployments (and the conformance harness) also put in zoo.cfg; zabd takes them
// without an "unknown key" warning and uses the check interval for its reaping.
func TestContainerKeys(t *testing.T) {
	cases := []struct {
		name         string
		lines        string
		wantInterval int64
		wantWarning  string // "" = no warning
		wantErr      string
	}{
		{"default", "", 60_000, "", ""},
		{"check interval", "znode.container.checkIntervalMs=86400000\n", 86_400_000, "", ""},
		{"check interval must be positive", "znode.container.checkIntervalMs=0\n", 0, "", "must be positive"},
		{"maxNeverUsedIntervalMs 0 is what zabd does", "znode.container.maxNeverUsedIntervalMs=0\n", 60_000, "", ""},
		{"maxNeverUsedIntervalMs other values", "znode.container.maxNeverUsedIntervalMs=5000\n", 60_000, "not implemented", ""},
		{"maxPerMinute", "znode.container.maxPerMinute=10000\n", 60_000, "accepted", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, warnings, err := Parse(stringsReader(minimal+tc.lines), 0)
			if tc.wantErr != "" {
				require.Error(t, err, "zoo.cfg with %q", tc.lines)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err, "zoo.cfg with %q", tc.lines)
			assert.Equal(t, tc.wantInterval, c.ContainerCheckIntervalMillis)
			var got []string
			for _, w := range warnings {
				got = append(got, w.String())
				assert.NotContains(t, w.String(), "unknown key", "zoo.cfg with %q", tc.lines)
			}
			if tc.wantWarning == "" {
				assert.Empty(t, got, "zoo.cfg with %q", tc.lines)
			} else {
				require.Len(t, got, 1, "zoo.cfg with %q", tc.lines)
				assert.Contains(t, got[0], tc.wantWarning)
			}
		})
	}
}

// TestBadValues checks that every refused config says which key, which value and where.
func TestBadValues(t *testing.T) {
	ensemble := "dataDir=/d\nclientPort=2181\ninitLimit=5\nsyncLimit=2\nserver.1=a:1:2\nserver.2=b:1:2\n"
	tests := []struct {
		name string
		src  string
		myid uint64
		want string
	}{
		{"tickTime not a number", "tickTime=2s\n" + minimal, 0, `zoo.cfg:1: tickTime="2s": not an integer`},
		{"tickTime zero", minimal + "tickTime=0", 0, `zoo.cfg:3: tickTime="0": must be positive`},
		{"tickTime overflows int32", minimal + "tickTime=3000000000", 0, `tickTime="3000000000": not an integer`},
		{"clientPort out of range", "dataDir=/d\nclientPort=70000", 0, `zoo.cfg:2: clientPort="70000": outside 1..65535`},
		{"no dataDir", "clientPort=2181", 0, "zoo.cfg: dataDir: is not set"},
		{"no client port", "dataDir=/d", 0, "clientPort: is not set"},
		{"bad clientPortAddress", minimal + "clientPortAddress=a b", 0, `zoo.cfg:3: clientPortAddress="a b": not a host name or IP address`},
		{"negative maxClientCnxns", minimal + "maxClientCnxns=-1", 0, `maxClientCnxns="-1": must not be negative`},
		{"min above max", minimal + "minSessionTimeout=30000\nmaxSessionTimeout=10000", 0, "minSessionTimeout: 30000 ms is above maxSessionTimeout 10000 ms"},
		{"bad boolean", minimal + "extendedTypesEnabled=yes", 0, `zoo.cfg:3: extendedTypesEnabled="yes": want true or false`},
		{"bad superDigest", minimal + "zookeeper.DigestAuthenticationProvider.superDigest=nocolon", 0, `superDigest="nocolon": want <user>:<base64 digest>`},
		{"unknown metrics provider", minimal + "metricsProvider.className=com.example.Metrics", 0, `metricsProvider.className="com.example.Metrics": zabd supports`},
		{"electionAlg 0", minimal + "electionAlg=0", 0, `electionAlg="0": only electionAlg=3`},
		{"dynamic config", minimal + "dynamicConfigFile=/conf/zoo.cfg.dynamic", 0, `dynamicConfigFile="/conf/zoo.cfg.dynamic": dynamic configuration is not supported`},
		{"server id not a number", minimal + "server.x=a:1:2", 0, `zoo.cfg:3: server.x="a:1:2": "x" after "server." is not a server id`},
		{"server id zero", minimal + "server.0=a:1:2", 0, `"0" after "server." is not a server id`},
		{"server too few parts", minimal + "server.1=a:1", 1, `zoo.cfg:3: server.1="a:1": want host:peerPort:electionPort`},
		{"server same ports", minimal + "server.1=a:1:1", 1, "the peer port and the election port must differ"},
		{"server bad type", minimal + "server.1=a:1:2:witness", 1, `server type "witness": want participant or observer`},
		{"server bad client port", minimal + "server.1=a:1:2;x", 1, `client port "x": not a number`},
		{"server multi address", minimal + "server.1=a:1:2|b:1:2", 1, "multiAddress"},
		{"server id too large", minimal + "server.256=a:1:2", 256, "server id 256 is above 255"},
		{"server id 255 with TTL", minimal + "extendedTypesEnabled=true\nserver.255=a:1:2", 255, "server id 255 is above 254"},
		{"ensemble without myid", ensemble, 0, "myid: is missing from /d"},
		{"myid not in the ensemble", ensemble, 3, "myid: says 3, but there is no server.3 line"},
		{"ensemble without initLimit", strings.Replace(ensemble, "initLimit=5\n", "", 1), 1, "initLimit: is not set"},
		{"ensemble without syncLimit", strings.Replace(ensemble, "syncLimit=2\n", "", 1), 1, "syncLimit: is not set"},
		{"only observers", minimal + "server.1=a:1:2:observer", 1, "no server line is a participant"},
		{"clientPort disagrees with server line", minimal + "initLimit=1\nsyncLimit=1\nserver.1=a:1:2;2182\nserver.2=b:1:2", 1, "clientPort: 2181 disagrees with server.1's client address :2182"},
		{"hierarchical quorum", minimal + "group.1=1:2:3", 0, "hierarchical quorums are not supported"},
		{"bad unicode escape", minimal + `dataDir=\u12`, 0, `zoo.cfg:3: malformed \uxxxx escape`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Parse(stringsReader(tt.src), tt.myid)
			require.Error(t, err, "config must be refused:\n%s", tt.src)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestLoadReadsMyID(t *testing.T) {
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	require.NoError(t, os.Mkdir(dataDir, 0o755))
	cfgPath := filepath.Join(dir, "zoo.cfg")
	require.NoError(t, os.WriteFile(cfgPath, []byte(strings.ReplaceAll(dockerEnsemble, "/data\n", dataDir+"\n")), 0o644))

	_, _, err := Load(cfgPath)
	require.Error(t, err, "an ensemble member without myid must not start")
	assert.Contains(t, err.Error(), cfgPath+": myid: is missing")

	require.NoError(t, os.WriteFile(filepath.Join(dataDir, "myid"), []byte("3\n"), 0o644))
	c, _, err := Load(cfgPath)
	require.NoError(t, err)
	assert.Equal(t, uint64(3), c.ServerID)
	self, ok := c.Self()
	require.True(t, ok)
	assert.Equal(t, "zoo3", self.Host)

	require.NoError(t, os.WriteFile(filepath.Join(dataDir, "myid"), []byte("three"), 0o644))
	_, _, err = Load(cfgPath)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `holds "three", not a server id`)

	_, _, err = Load(filepath.Join(dir, "absent.cfg"))
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestReadMyIDTakesTheFirstLine(t *testing.T) {
	dir := t.TempDir()
	_, ok, err := ReadMyID(dir)
	require.NoError(t, err)
	assert.False(t, ok, "no myid file")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "myid"), []byte(" 12 \r\nignored\n"), 0o644))
	id, ok, err := ReadMyID(dir)
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, uint64(12), id)
}
