package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// configBytesMax bounds a zoo.cfg (real ones are a few KiB).
const configBytesMax = 1 << 20

// Load reads the zoo.cfg at path and the myid file in its dataDir.
func Load(path string) (Config, []Warning, error) {
	f, err := os.Open(path)
	if err != nil {
		return Config{}, nil, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	src, err := io.ReadAll(io.LimitReader(f, configBytesMax+1))
	if err != nil {
		return Config{}, nil, fmt.Errorf("config: read %s: %w", path, err)
	}
	p := parser{file: path}
	return p.parse(src, func(dataDir string) (uint64, bool, error) { return ReadMyID(dataDir) })
}

// Parse reads a zoo.cfg from r. myid is the content of the myid file, 0 when there is none
// (allowed only for a standalone server).
func Parse(r io.Reader, myid uint64) (Config, []Warning, error) {
	src, err := io.ReadAll(io.LimitReader(r, configBytesMax+1))
	if err != nil {
		return Config{}, nil, fmt.Errorf("config: %w", err)
	}
	var p parser
	return p.parse(src, func(string) (uint64, bool, error) { return myid, myid != 0, nil })
}

// MyIDFile is the name of the file in dataDir that holds the server's id.
const MyIDFile = "myid"

// ReadMyID reads dataDir/myid: the server id in decimal on the first line, as ZooKeeper
// writes and reads it. ok is false when the file does not exist.
func ReadMyID(dataDir string) (id uint64, ok bool, err error) {
	path := filepath.Join(dataDir, MyIDFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("config: %w", err)
	}
	first, _, _ := strings.Cut(string(b), "\n")
	first = strings.TrimSpace(first)
	id, err = strconv.ParseUint(first, 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("config: %s holds %q, not a server id", path, first)
	}
	return id, true, nil
}

// fourLetterWords are the 4lw commands ZooKeeper knows (FourLetterCommands).
var fourLetterWords = []string{"conf", "cons", "crst", "dirs", "dump", "envi", "gtmk", "hash",
	"isro", "mntr", "ruok", "srst", "srvr", "stat", "stmk", "wchc", "wchp", "wchs"}

// unimplemented are ZooKeeper settings zabd accepts and ignores, with what that means.
var unimplemented = map[string]string{
	"admin.enableServer":            "zabd has no AdminServer",
	"admin.serverPort":              "zabd has no AdminServer",
	"admin.serverAddress":           "zabd has no AdminServer",
	"admin.commandURL":              "zabd has no AdminServer",
	"globalOutstandingLimit":        "zabd bounds in-flight proposals in the core",
	"jute.maxbuffer":                "zabd accepts packets up to 1 MiB",
	"syncEnabled":                   "observers always log txns in zabd",
	"quorumListenOnAllIPs":          "zabd binds the address of its server line",
	"clientPortListenBacklog":       "zabd uses the system's listen backlog",
	"snapSizeLimitInKb":             "zabd takes snapshots by txn count only",
	"localSessionsEnabled":          "zabd has global sessions only",
	"localSessionsUpgradingEnabled": "zabd has global sessions only",
	"reconfigEnabled":               "zabd has no dynamic reconfiguration",
	"forceSync":                     "zabd always fsyncs the log",
	"cnxTimeout":                    "zabd's peer transport has its own timeouts",
	"connectToLearnerMasterLimit":   "zabd uses initLimit",
	"maxCnxns":                      "zabd limits connections per IP only (maxClientCnxns)",
	"secureClientPort":              "zabd has no TLS client port",
	"secureClientPortAddress":       "zabd has no TLS client port",
	"sslQuorum":                     "zabd has no TLS quorum",
	"portUnification":               "zabd has no TLS",
	"serverCnxnFactory":             "zabd has its own network layer",
	"skipACL":                       "zabd always checks ACLs",
	"metricsProvider.exportJvmInfo": "zabd has no JVM",
}

type parser struct {
	file     string
	warnings []Warning
}

func (p *parser) warn(line int, key, format string, args ...any) {
	p.warnings = append(p.warnings, Warning{Line: line, Key: key, Message: fmt.Sprintf(format, args...)})
}

func (p *parser) bad(pr property, format string, args ...any) error {
	return &Error{File: p.file, Line: pr.line, Key: pr.key, Value: pr.value, Reason: fmt.Sprintf(format, args...)}
}

func (p *parser) missing(key, reason string) error {
	return &Error{File: p.file, Key: key, Reason: reason}
}

// settings holds what the file said before the cross-key checks resolve it.
type settings struct {
	clientPort        int
	clientPortAddress string
	minSession        int64 // -1: default
	maxSession        int64
	standaloneEnabled bool
	peerType          string
	whitelist         *property
	metricsClass      string
	metricsHost       *property
	metricsPort       *property
	initLimitSet      bool
	syncLimitSet      bool
}

func (p *parser) parse(src []byte, myid func(dataDir string) (uint64, bool, error)) (Config, []Warning, error) {
	if len(src) > configBytesMax {
		return Config{}, nil, &Error{File: p.file, Reason: fmt.Sprintf("larger than %d bytes", configBytesMax)}
	}
	props, err := parseProperties(string(src))
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			e.File = p.file
		}
		return Config{}, nil, err
	}
	seen := map[string]int{}
	for _, pr := range props {
		if line, dup := seen[pr.key]; dup {
			p.warn(pr.line, pr.key, "set again (first on line %d); the last value wins", line)
		}
		seen[pr.key] = pr.line
	}

	c := Config{
		TickMillis:      defaultTickMillis,
		MaxClientCnxns:  defaultMaxClientCnxns,
		SnapCount:       defaultSnapCount,
		PreAllocBytes:   defaultPreAllocKiB << 10,
		SnapRetainCount: snapRetainCountMin,

		ContainerCheckIntervalMillis: defaultContainerCheckMillis,
	}
	s := settings{minSession: -1, maxSession: -1, standaloneEnabled: true}
	servers := map[uint64]Server{}
	serverLines := map[uint64]property{}
	for _, pr := range props {
		if err := p.apply(&c, &s, servers, serverLines, pr); err != nil {
			return Config{}, nil, err
		}
	}
	if err := p.resolve(&c, &s, servers, serverLines, myid); err != nil {
		return Config{}, nil, err
	}
	return c, p.warnings, nil
}

// apply checks one key's value and records it.
func (p *parser) apply(c *Config, s *settings, servers map[uint64]Server, serverLines map[uint64]property, pr property) error {
	var err error
	switch key := pr.key; {
	case key == "tickTime":
		c.TickMillis, err = p.positive(pr)
	case key == "initLimit":
		c.InitLimitTicks, err = p.positive(pr)
		s.initLimitSet = true
	case key == "syncLimit":
		c.SyncLimitTicks, err = p.positive(pr)
		s.syncLimitSet = true
	case key == "dataDir":
		c.DataDir, err = p.path(pr)
	case key == "dataLogDir":
		c.DataLogDir, err = p.path(pr)
	case key == "clientPort":
		s.clientPort, err = p.port(pr)
	case key == "clientPortAddress":
		s.clientPortAddress, err = p.host(pr)
	case key == "minSessionTimeout":
		s.minSession, err = p.timeout(pr)
	case key == "maxSessionTimeout":
		s.maxSession, err = p.timeout(pr)
	case key == "maxClientCnxns":
		var n int64
		n, err = p.nonNegative(pr)
		c.MaxClientCnxns = int(n)
	case key == "snapCount":
		var n int64
		if n, err = p.integer(pr); err == nil && n < 2 {
			p.warn(pr.line, pr.key, "%d is below 2; using 2 (as ZooKeeper does)", n)
			n = 2
		}
		c.SnapCount = int(n)
	case key == "preAllocSize":
		var kib int64
		kib, err = p.nonNegative(pr)
		c.PreAllocBytes = kib << 10
	case key == "autopurge.snapRetainCount":
		var n int64
		if n, err = p.integer(pr); err == nil && n < snapRetainCountMin {
			p.warn(pr.line, pr.key, "%d is below %d; using %d (as ZooKeeper does)", n, snapRetainCountMin, snapRetainCountMin)
			n = snapRetainCountMin
		}
		c.SnapRetainCount = int(n)
	case key == "autopurge.purgeInterval":
		var n int64
		n, err = p.integer(pr)
		c.PurgeIntervalHours = int(max(n, 0)) // ZooKeeper: 0 or less disables purging
	case key == "4lw.commands.whitelist":
		s.whitelist = &pr
	case key == "metricsProvider.className":
		s.metricsClass = pr.value
		if pr.value != prometheusProviderClass && pr.value != defaultProviderClass {
			err = p.bad(pr, "zabd supports %s (or %s, for no metrics)", prometheusProviderClass, defaultProviderClass)
		}
	case key == "metricsProvider.httpHost":
		if _, err = p.host(pr); err == nil {
			s.metricsHost = &pr
		}
	case key == "metricsProvider.httpPort":
		if _, err = p.port(pr); err == nil {
			s.metricsPort = &pr
		}
	case key == "zookeeper.DigestAuthenticationProvider.superDigest", key == "DigestAuthenticationProvider.superDigest":
		if user, digest, ok := strings.Cut(pr.value, ":"); !ok || user == "" || digest == "" {
			err = p.bad(pr, "want <user>:<base64 digest>, as printed by DigestAuthenticationProvider.generateDigest")
		}
		c.SuperDigest = pr.value
	case key == "extendedTypesEnabled":
		c.ExtendedTypesEnabled, err = p.boolean(pr)
	case key == "znode.container.checkIntervalMs":
		c.ContainerCheckIntervalMillis, err = p.positive(pr)
	case key == "znode.container.maxPerMinute":
		// ContainerManager's rate limit; zabd's leader deletes at most a fixed batch per check.
		if _, err = p.nonNegative(pr); err == nil {
			p.warn(pr.line, key, "accepted; zabd deletes at most 100 nodes per check interval, whatever the value")
		}
	case key == "znode.container.maxNeverUsedIntervalMs":
		// 0, the default, keeps a container that never had a child; zabd always does.
		var n int64
		if n, err = p.nonNegative(pr); err == nil && n != 0 {
			p.warn(pr.line, key, "not implemented (zabd never deletes a container that never had a child); ignored")
		}
	case key == "standaloneEnabled":
		s.standaloneEnabled, err = p.boolean(pr)
	case key == "electionAlg":
		if pr.value != "3" {
			err = p.bad(pr, "only electionAlg=3 (fast leader election) exists")
		}
	case key == "peerType":
		s.peerType = strings.ToLower(pr.value)
		if s.peerType != "participant" && s.peerType != "observer" {
			err = p.bad(pr, "want participant or observer")
		}
	case key == "dynamicConfigFile":
		err = p.bad(pr, "dynamic configuration is not supported; put the server.N lines in zoo.cfg")
	case strings.HasPrefix(key, "server."):
		var srv Server
		if srv, err = p.server(pr); err == nil {
			servers[srv.ID] = srv
			serverLines[srv.ID] = pr
		}
	case strings.HasPrefix(key, "group.") || strings.HasPrefix(key, "weight."):
		err = p.bad(pr, "hierarchical quorums are not supported")
	case strings.HasPrefix(key, "quorum.auth.") || strings.HasPrefix(key, "ssl."):
		p.warn(pr.line, key, "zabd has no quorum authentication or TLS; ignored")
	default:
		if why, ok := unimplemented[key]; ok {
			p.warn(pr.line, key, "not implemented (%s); ignored", why)
		} else {
			p.warn(pr.line, key, "unknown key; ignored")
		}
	}
	return err
}

// resolve applies the rules that involve several keys and the myid file.
func (p *parser) resolve(c *Config, s *settings, servers map[uint64]Server, serverLines map[uint64]property,
	myid func(string) (uint64, bool, error)) error {
	if c.DataDir == "" {
		return p.missing("dataDir", "is not set")
	}
	if c.DataLogDir == "" {
		c.DataLogDir = c.DataDir
	}

	ids := make([]uint64, 0, len(servers))
	for id := range servers {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	participants := 0
	for _, id := range ids {
		c.Servers = append(c.Servers, servers[id])
		if !servers[id].Observer {
			participants++
		}
	}
	if len(c.Servers) > 0 && participants == 0 {
		return p.missing("server.N", "no server line is a participant")
	}

	id, haveID, err := myid(c.DataDir)
	if err != nil {
		return err
	}
	idMax := uint64(serverIDMax)
	if c.ExtendedTypesEnabled {
		idMax = serverIDMaxExtended
	}
	for _, srv := range c.Servers {
		if srv.ID > idMax {
			why := "the id is the top byte of session ids"
			if c.ExtendedTypesEnabled {
				why += "; extendedTypesEnabled reserves 255"
			}
			return p.bad(serverLines[srv.ID], "server id %d is above %d (%s)", srv.ID, idMax, why)
		}
	}

	// ZooKeeper runs a single participant standalone unless standaloneEnabled=false
	// (QuorumPeerConfig.setupQuorumPeerConfig); the line still gives its client address.
	var self *Server
	if haveID {
		if i := slices.IndexFunc(c.Servers, func(srv Server) bool { return srv.ID == id }); i >= 0 {
			self = &c.Servers[i]
		}
	}
	if participants == 1 && s.standaloneEnabled {
		if len(c.Servers) > 1 {
			p.warn(0, "server.N", "one participant: running standalone and ignoring the observers (standaloneEnabled=true)")
		}
		if self == nil {
			i := slices.IndexFunc(c.Servers, func(srv Server) bool { return !srv.Observer })
			self = &c.Servers[i]
		}
		selfCopy := *self
		self = &selfCopy
		c.Servers = nil
	}

	if len(c.Servers) == 0 {
		c.ServerID = 1
		if haveID {
			c.ServerID = id
		}
		if c.ServerID == 0 || c.ServerID > idMax {
			return p.missing(MyIDFile, fmt.Sprintf("server id %d is outside 1..%d", c.ServerID, idMax))
		}
	} else {
		if !haveID {
			return p.missing(MyIDFile, fmt.Sprintf("is missing from %s; a server of an ensemble needs its id there", c.DataDir))
		}
		if self == nil {
			return p.missing(MyIDFile, fmt.Sprintf("says %d, but there is no server.%d line", id, id))
		}
		c.ServerID = id
		if !s.initLimitSet {
			return p.missing("initLimit", "is not set (required for an ensemble)")
		}
		if !s.syncLimitSet {
			return p.missing("syncLimit", "is not set (required for an ensemble)")
		}
		if s.peerType != "" && (s.peerType == "observer") != self.Observer {
			p.warn(0, "peerType", "says %s but server.%d says otherwise; the server line wins", s.peerType, id)
		}
	}

	if err := p.resolveClientAddr(c, s, self); err != nil {
		return err
	}

	c.MinSessionTimeoutMillis = 2 * c.TickMillis
	if s.minSession >= 0 {
		c.MinSessionTimeoutMillis = s.minSession
	}
	c.MaxSessionTimeoutMillis = 20 * c.TickMillis
	if s.maxSession >= 0 {
		c.MaxSessionTimeoutMillis = s.maxSession
	}
	if c.MinSessionTimeoutMillis > c.MaxSessionTimeoutMillis {
		return p.missing("minSessionTimeout", fmt.Sprintf("%d ms is above maxSessionTimeout %d ms",
			c.MinSessionTimeoutMillis, c.MaxSessionTimeoutMillis))
	}

	c.FourLetterWords = p.whitelist(s.whitelist)
	switch {
	case s.metricsClass == prometheusProviderClass:
		host, port := defaultMetricsHost, strconv.Itoa(defaultMetricsPort)
		if s.metricsHost != nil {
			host = s.metricsHost.value
		}
		if s.metricsPort != nil {
			port = s.metricsPort.value
		}
		c.MetricsAddr = net.JoinHostPort(host, port)
	case s.metricsPort != nil:
		p.warn(s.metricsPort.line, s.metricsPort.key, "has no effect without metricsProvider.className=%s", prometheusProviderClass)
	}
	return nil
}

// resolveClientAddr picks the client listener address: clientPortAddress:clientPort, or
// the ";[host:]port" of this server's line; when both are given they must agree.
func (p *parser) resolveClientAddr(c *Config, s *settings, self *Server) error {
	fromLine := ""
	if self != nil {
		fromLine = self.ClientAddr
	}
	if s.clientPort == 0 {
		if fromLine == "" {
			return p.missing("clientPort", "is not set (and this server's server.N line has no ;clientPort)")
		}
		c.ClientAddr = fromLine
		return nil
	}
	c.ClientAddr = net.JoinHostPort(s.clientPortAddress, strconv.Itoa(s.clientPort))
	if fromLine != "" {
		_, linePort, _ := net.SplitHostPort(fromLine)
		if linePort != strconv.Itoa(s.clientPort) {
			return p.missing("clientPort", fmt.Sprintf("%d disagrees with server.%d's client address %s", s.clientPort, self.ID, fromLine))
		}
		c.ClientAddr = fromLine
	}
	return nil
}

// whitelist reads 4lw.commands.whitelist: comma-separated words, "*" for all; srvr is
// always on, since zkServer.sh status depends on it (FourLetterCommands.resetWhiteList).
func (p *parser) whitelist(pr *property) []string {
	words := []string{"srvr"}
	if pr == nil {
		return words
	}
	for item := range strings.SplitSeq(pr.value, ",") {
		item = strings.TrimSpace(item)
		switch {
		case item == "":
		case item == "*":
			words = append(words, fourLetterWords...)
		case slices.Contains(fourLetterWords, item):
			words = append(words, item)
		default:
			p.warn(pr.line, pr.key, "%q is not a four-letter word command; ignored", item)
		}
	}
	slices.Sort(words)
	return slices.Compact(words)
}

// server parses "server.N=host:peerPort:electionPort[:participant|observer][;[clientHost:]clientPort]".
func (p *parser) server(pr property) (Server, error) {
	idText := strings.TrimPrefix(pr.key, "server.")
	id, err := strconv.ParseUint(idText, 10, 64)
	if err != nil || id == 0 {
		return Server{}, p.bad(pr, "%q after \"server.\" is not a server id (1, 2, ...)", idText)
	}
	addr, client, hasClient := strings.Cut(pr.value, ";")
	if strings.Contains(addr, "|") {
		return Server{}, p.bad(pr, "several addresses per server (multiAddress) are not supported")
	}
	parts, err := splitHostPorts(strings.TrimSpace(addr))
	if err != nil || len(parts) < 3 || len(parts) > 4 {
		return Server{}, p.bad(pr, "want host:peerPort:electionPort[:participant|observer][;[clientHost:]clientPort]")
	}
	srv := Server{ID: id, Host: parts[0]}
	if srv.Host == "" {
		return Server{}, p.bad(pr, "the host is empty")
	}
	if srv.PeerPort, err = parsePort(parts[1]); err != nil {
		return Server{}, p.bad(pr, "peer port %q: %v", parts[1], err)
	}
	if srv.ElectionPort, err = parsePort(parts[2]); err != nil {
		return Server{}, p.bad(pr, "election port %q: %v", parts[2], err)
	}
	if srv.PeerPort == srv.ElectionPort {
		return Server{}, p.bad(pr, "the peer port and the election port must differ")
	}
	if len(parts) == 4 {
		switch strings.ToLower(parts[3]) {
		case "participant":
		case "observer":
			srv.Observer = true
		default:
			return Server{}, p.bad(pr, "server type %q: want participant or observer", parts[3])
		}
	}
	if hasClient {
		client = strings.TrimSpace(client)
		host, port := "", client
		if strings.Contains(client, ":") {
			if host, port, err = net.SplitHostPort(client); err != nil {
				return Server{}, p.bad(pr, "client address %q: %v", client, err)
			}
			if host == "0.0.0.0" {
				host = ""
			}
		}
		n, err := parsePort(port)
		if err != nil {
			return Server{}, p.bad(pr, "client port %q: %v", port, err)
		}
		srv.ClientAddr = net.JoinHostPort(host, strconv.Itoa(n))
	}
	return srv, nil
}

// splitHostPorts splits "host:a:b[:c]" where host may be a bracketed IPv6 address.
func splitHostPorts(s string) ([]string, error) {
	if !strings.HasPrefix(s, "[") {
		return strings.Split(s, ":"), nil
	}
	end := strings.Index(s, "]")
	if end < 0 || !strings.HasPrefix(s[end+1:], ":") {
		return nil, errors.New("bad IPv6 address")
	}
	return append([]string{s[1:end]}, strings.Split(s[end+2:], ":")...), nil
}

func parsePort(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, errors.New("not a number")
	}
	if n < 1 || n > 65535 {
		return 0, errors.New("outside 1..65535")
	}
	return n, nil
}

func (p *parser) integer(pr property) (int64, error) {
	n, err := strconv.ParseInt(pr.value, 10, 32) // Java's Integer.parseInt
	if err != nil {
		return 0, p.bad(pr, "not an integer")
	}
	return n, nil
}

func (p *parser) positive(pr property) (int64, error) {
	n, err := p.integer(pr)
	if err == nil && n <= 0 {
		return 0, p.bad(pr, "must be positive")
	}
	return n, err
}

func (p *parser) nonNegative(pr property) (int64, error) {
	n, err := p.integer(pr)
	if err == nil && n < 0 {
		return 0, p.bad(pr, "must not be negative")
	}
	return n, err
}

// timeout reads a session timeout bound: milliseconds, or -1 for the tickTime default.
func (p *parser) timeout(pr property) (int64, error) {
	n, err := p.integer(pr)
	if err == nil && n < -1 {
		return 0, p.bad(pr, "must be a number of milliseconds, or -1 for the default")
	}
	return n, err
}

func (p *parser) port(pr property) (int, error) {
	n, err := parsePort(pr.value)
	if err != nil {
		return 0, p.bad(pr, "%v", err)
	}
	return n, nil
}

func (p *parser) host(pr property) (string, error) {
	h := strings.TrimSuffix(strings.TrimPrefix(pr.value, "["), "]")
	if h == "" || strings.ContainsAny(h, " /") || (strings.Contains(h, ":") && net.ParseIP(h) == nil) {
		return "", p.bad(pr, "not a host name or IP address")
	}
	return h, nil
}

func (p *parser) path(pr property) (string, error) {
	if pr.value == "" {
		return "", p.bad(pr, "is empty")
	}
	return pr.value, nil
}

// boolean accepts true or false in any case. (Java's Boolean.parseBoolean reads anything
// else as false; refusing it catches "ture" and "yes".)
func (p *parser) boolean(pr property) (bool, error) {
	switch strings.ToLower(pr.value) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, p.bad(pr, "want true or false")
}
