package conformance

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Where Debian 12 puts Apache ZooKeeper (packages zookeeper, zookeeper-bin,
// libzookeeper-java): the server jar's manifest carries the Class-Path of its dependencies,
// so the jar alone is a complete class path. zkServer.sh is /usr/share/zookeeper/bin, but it
// sources /etc/zookeeper/conf and wraps java in a shell; the launcher runs the JVM directly
// (QuorumPeerMain in the foreground), so killing the process it started kills the server.
const (
	debianServerJar  = "/usr/share/java/zookeeper.jar"
	debianSlf4jJar   = "/usr/share/java/slf4j-simple.jar"
	apacheMainClass  = "org.apache.zookeeper.server.quorum.QuorumPeerMain"
	classPathEnvName = "ZABKIT_ZOOKEEPER_CLASSPATH"
)

// Bounds of every wait of the launcher.
const (
	startWaitMax = 60 * time.Second
	stopWaitMax  = 10 * time.Second
	pollInterval = 100 * time.Millisecond
	logTailBytes = 16 << 10
)

// ErrApacheMissing says Apache ZooKeeper or Java is not installed; tests skip on it.
var ErrApacheMissing = errors.New("conformance: Apache ZooKeeper is not installed " +
	"(apt-get install -y zookeeper zookeeper-bin; or set " + classPathEnvName + ")")

// ApacheInstall is an installed Apache ZooKeeper: a java binary and a class path.
type ApacheInstall struct {
	Java      string
	ClassPath string
}

// FindApache locates Java and the ZooKeeper jars: $ZABKIT_ZOOKEEPER_CLASSPATH if set, else
// Debian's layout. The error wraps ErrApacheMissing when either is absent.
func FindApache() (ApacheInstall, error) {
	java, err := exec.LookPath("java")
	if err != nil {
		return ApacheInstall{}, fmt.Errorf("%w: no java on PATH", ErrApacheMissing)
	}
	cp := os.Getenv(classPathEnvName)
	if cp == "" {
		if _, err := os.Stat(debianServerJar); err != nil {
			return ApacheInstall{}, fmt.Errorf("%w: %v", ErrApacheMissing, err)
		}
		cp = debianServerJar
		// Without an slf4j binding the server logs nothing; with slf4j-simple its warnings
		// reach the log tail printed when a start fails.
		if _, err := os.Stat(debianSlf4jJar); err == nil {
			cp += ":" + debianSlf4jJar
		}
	}
	return ApacheInstall{Java: java, ClassPath: cp}, nil
}

// Server is one server process the harness started: an Apache ZooKeeper JVM or a zabd.
type Server struct {
	// Addr is the client address, 127.0.0.1:port.
	Addr string
	// Dir holds zoo.cfg and the data directory.
	Dir string

	cmd    *exec.Cmd
	log    *tailBuffer
	exited chan struct{}
	once   sync.Once
}

// StartApache starts a standalone Apache ZooKeeper with settings s in a fresh directory under
// dir, on a free 127.0.0.1 port, and waits until it answers ruok with imok.
func StartApache(inst ApacheInstall, s Settings, dir string) (*Server, error) {
	ports, err := freePorts(1)
	if err != nil {
		return nil, err
	}
	srv, err := launch(inst, s, dir, 0, ports[0], nil)
	if err != nil {
		return nil, err
	}
	if err := srv.waitServing(); err != nil {
		srv.Stop()
		return nil, err
	}
	return srv, nil
}

// StartApacheEnsemble starts n Apache ZooKeeper servers forming one ensemble, each in its own
// directory under dir, and waits until every member serves clients (srvr reports a Mode).
// On error every started member is stopped.
func StartApacheEnsemble(inst ApacheInstall, s Settings, dir string, n int) ([]*Server, error) {
	members, err := ensembleMembers(n)
	if err != nil {
		return nil, err
	}
	return startEnsemble(members, func(m Member) (*Server, error) {
		return launch(inst, s, dir, m.ID, m.ClientPort, members)
	})
}

// ensembleMembers gives n members free ports on 127.0.0.1.
func ensembleMembers(n int) ([]Member, error) {
	ports, err := freePorts(3 * n)
	if err != nil {
		return nil, err
	}
	members := make([]Member, n)
	for i := range members {
		members[i] = Member{ID: i + 1, QuorumPort: ports[3*i], ElectionPort: ports[3*i+1], ClientPort: ports[3*i+2]}
	}
	return members, nil
}

// startEnsemble launches every member, then waits until each serves; on error it stops them.
func startEnsemble(members []Member, launchOne func(Member) (*Server, error)) ([]*Server, error) {
	var servers []*Server
	stopAll := func() {
		for _, srv := range servers {
			srv.Stop()
		}
	}
	for _, m := range members {
		srv, err := launchOne(m)
		if err != nil {
			stopAll()
			return nil, err
		}
		servers = append(servers, srv)
	}
	for _, srv := range servers {
		if err := srv.waitServing(); err != nil {
			stopAll()
			return nil, err
		}
	}
	return servers, nil
}

// serverHome makes a server's directory under dir: data/ (with a myid file for an ensemble
// member, id > 0) and zoo.cfg.
func serverHome(s Settings, dir, kind string, id, clientPort int, members []Member) (home, data, cfg string, err error) {
	name := "standalone"
	if id > 0 {
		name = fmt.Sprintf("server%d", id)
	}
	if home, err = os.MkdirTemp(dir, kind+"-"+name+"-"); err != nil {
		return "", "", "", err
	}
	data = filepath.Join(home, "data")
	if err = os.MkdirAll(data, 0o755); err != nil {
		return "", "", "", err
	}
	if id > 0 {
		if err = os.WriteFile(filepath.Join(data, "myid"), []byte(fmt.Sprintf("%d\n", id)), 0o644); err != nil {
			return "", "", "", err
		}
	}
	cfg = filepath.Join(home, "zoo.cfg")
	err = os.WriteFile(cfg, []byte(s.ZooCfg(data, clientPort, members)), 0o644)
	return home, data, cfg, err
}

func launch(inst ApacheInstall, s Settings, dir string, id, clientPort int, members []Member) (*Server, error) {
	home, _, cfg, err := serverHome(s, dir, "zk", id, clientPort, members)
	if err != nil {
		return nil, err
	}
	args := []string{
		// A small heap and the client compiler keep 3 JVMs within a 2-core CI machine.
		"-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
		"-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
		"-Dzookeeper.log.dir=" + home,
		fmt.Sprintf("-Dzookeeper.extendedTypesEnabled=%t", s.ExtendedTypes),
		"-Dzookeeper.4lw.commands.whitelist=" + s.FourLetterWhitelist,
		"-Dzookeeper.admin.enableServer=false",
		fmt.Sprintf("-Dznode.container.checkIntervalMs=%d", s.ContainerCheckIntervalMs),
	}
	if s.SuperDigest != "" {
		args = append(args, "-Dzookeeper.DigestAuthenticationProvider.superDigest="+s.SuperDigest)
	}
	args = append(args, "-cp", inst.ClassPath, apacheMainClass, cfg)
	return startProcess(exec.Command(inst.Java, args...), home, clientPort)
}

// startProcess starts cmd (a server listening on 127.0.0.1:clientPort) in dir, capturing the
// tail of its output.
func startProcess(cmd *exec.Cmd, dir string, clientPort int) (*Server, error) {
	cmd.Dir = dir
	// Its own process group, so a ^C on the test does not race the launcher's kill; and
	// killed by the kernel if the test binary dies without running its clean-ups (Linux).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	log := &tailBuffer{max: logTailBytes}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("conformance: starting %s: %w", cmd.Path, err)
	}
	srv := &Server{Addr: fmt.Sprintf("127.0.0.1:%d", clientPort), Dir: dir, cmd: cmd, log: log,
		exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(srv.exited)
	}()
	return srv, nil
}

// waitServing polls until the server serves clients or startWaitMax passes. ruok is not
// enough: a server answers imok before its ZooKeeperServer runs (standalone: while loading
// the data directory; ensemble member: before it has joined a quorum) and closes client
// connections until then; srvr reports a Mode only once it serves.
func (srv *Server) waitServing() error {
	deadline := time.Now().Add(startWaitMax)
	for time.Now().Before(deadline) {
		select {
		case <-srv.exited:
			return fmt.Errorf("conformance: server at %s exited during start-up; log tail:\n%s", srv.Addr, srv.LogTail())
		default:
		}
		if out, err := FourLetterWord(srv.Addr, "ruok", time.Second); err == nil && out == "imok" {
			if out, err := FourLetterWord(srv.Addr, "srvr", time.Second); err == nil && strings.Contains(out, "\nMode: ") {
				return nil
			}
		}
		time.Sleep(pollInterval)
	}
	return fmt.Errorf("conformance: server at %s not serving after %v; log tail:\n%s", srv.Addr, startWaitMax, srv.LogTail())
}

// Stop kills the JVM and waits (bounded) for it to exit. It is idempotent and safe to call from
// t.Cleanup after a failed test.
func (srv *Server) Stop() {
	srv.once.Do(func() {
		if srv.cmd.Process != nil {
			_ = srv.cmd.Process.Kill()
		}
		select {
		case <-srv.exited:
		case <-time.After(stopWaitMax):
		}
	})
}

// Exited reports whether the JVM is gone.
func (srv *Server) Exited() bool {
	select {
	case <-srv.exited:
		return true
	default:
		return false
	}
}

// LogTail returns the last bytes the JVM wrote to stdout and stderr.
func (srv *Server) LogTail() string { return srv.log.String() }

// freePorts reserves n distinct free TCP ports on 127.0.0.1 by listening on port 0 and closing
// the listeners together at the end (so the n ports differ). Another process may take a port
// before the server binds it; the start then fails with the server's bind error in its log.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("conformance: finding a free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if len(b.buf) > b.max {
		b.buf = append(b.buf[:0], b.buf[len(b.buf)-b.max:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}
