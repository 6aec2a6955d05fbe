package daemon

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/zabkit/zabkit/daemon/config"
	"github.com/zabkit/zabkit/zab/node"
)

// Ensemble is several servers in one process on 127.0.0.1 ports, each with its own data
// directory: what `zabd dev -n 3` runs and what the integration tests drive. A member can
// be killed and restarted on the same ports and data.
type Ensemble struct {
	Servers   []*Server // nil while a member is down
	configs   []config.Config
	log       *slog.Logger
	committed func(member int, c node.Committed)
}

// EnsembleOptions describe an in-process ensemble.
type EnsembleOptions struct {
	Dir     string // each member keeps its data in Dir/s<id>
	Servers int    // members, voters unless counted in Observers
	// Observers makes the last Observers members observers (server.N=...:observer): they
	// serve clients and follow the log but do not vote.
	Observers int
	Logger    *slog.Logger
	// Tune, when set, adjusts each member's configuration before it starts.
	Tune func(*config.Config)
	// Committed, when set, sees every txn each member applies (0-based member index), on
	// that member's node goroutine.
	Committed func(member int, c node.Committed)
}

// StartEnsemble starts the members on fresh 127.0.0.1 ports.
func StartEnsemble(o EnsembleOptions) (*Ensemble, error) {
	n, dir, log, tune := o.Servers, o.Dir, o.Logger, o.Tune
	if n < 1 {
		return nil, fmt.Errorf("daemon: an ensemble needs at least one server, not %d", n)
	}
	if o.Observers < 0 || o.Observers >= n {
		return nil, fmt.Errorf("daemon: %d observers among %d servers leave no voter", o.Observers, n)
	}
	if log == nil {
		log = slog.Default()
	}
	e := &Ensemble{log: log, committed: o.Committed}
	var clientLns, peerLns []net.Listener
	closeAll := func() {
		for _, l := range append(clientLns, peerLns...) {
			l.Close()
		}
	}
	var servers []config.Server
	for i := 1; i <= n; i++ {
		cl, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			closeAll()
			return nil, err
		}
		clientLns = append(clientLns, cl)
		pl, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			closeAll()
			return nil, err
		}
		peerLns = append(peerLns, pl)
		peerPort := pl.Addr().(*net.TCPAddr).Port
		// zabd runs election and broadcast over one connection per pair of servers on the
		// peer port (daemon/peer) and never listens on the election port; a zoo.cfg must
		// still name one, different from the peer port (config.Parse refuses the same port
		// twice, as ZooKeeper does), so the ensemble's configs take a free port for it.
		electionPort, err := freePort()
		if err != nil {
			closeAll()
			return nil, err
		}
		servers = append(servers, config.Server{
			ID: uint64(i), Host: "127.0.0.1", PeerPort: peerPort, ElectionPort: electionPort,
			ClientAddr: cl.Addr().String(), Observer: i > n-o.Observers,
		})
	}
	for i := 1; i <= n; i++ {
		c := config.Default()
		c.DataDir = filepath.Join(dir, "s"+strconv.Itoa(i))
		c.DataLogDir = c.DataDir
		c.ServerID = uint64(i)
		c.ClientAddr = clientLns[i-1].Addr().String()
		c.FourLetterWords = append([]string(nil), fourLetterWords...)
		if n > 1 {
			c.Servers = servers
			c.InitLimitTicks, c.SyncLimitTicks = 10, 5
		}
		if tune != nil {
			tune(&c)
		}
		e.configs = append(e.configs, c)
	}
	e.Servers = make([]*Server, n)
	for i := range n {
		var err error
		e.Servers[i], err = Start(Options{Config: e.configs[i], ClientListener: clientLns[i], PeerListener: peerLns[i],
			Logger: log.With("member", i+1), Committed: e.committedHook(i)})
		if err != nil {
			for j := i + 1; j < n; j++ {
				clientLns[j].Close()
				peerLns[j].Close()
			}
			e.Close()
			return nil, err
		}
	}
	return e, nil
}

func (e *Ensemble) committedHook(i int) func(node.Committed) {
	if e.committed == nil {
		return nil
	}
	return func(c node.Committed) { e.committed(i, c) }
}

// freePort is a 127.0.0.1 port nobody listened on a moment ago: the election port the
// configs name and nothing binds.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// ConnectString lists the members' client addresses, as clients take it.
func (e *Ensemble) ConnectString() string {
	addrs := make([]string, len(e.configs))
	for i, c := range e.configs {
		addrs[i] = c.ClientAddr
	}
	return strings.Join(addrs, ",")
}

// Addrs are the members' client addresses.
func (e *Ensemble) Addrs() []string { return strings.Split(e.ConnectString(), ",") }

// Config is member i's configuration (0-based).
func (e *Ensemble) Config(i int) config.Config { return e.configs[i] }

// Kill stops member i abruptly (0-based).
func (e *Ensemble) Kill(i int) {
	if s := e.Servers[i]; s != nil {
		s.Kill()
		e.Servers[i] = nil
	}
}

// Restart starts member i again on its ports and data.
func (e *Ensemble) Restart(i int) error {
	if e.Servers[i] != nil {
		return fmt.Errorf("daemon: member %d is running", i+1)
	}
	c := e.configs[i]
	cl, err := net.Listen("tcp", c.ClientAddr)
	if err != nil {
		return err
	}
	var pl net.Listener
	if self, ok := c.Self(); ok {
		if pl, err = net.Listen("tcp", self.PeerAddr()); err != nil {
			cl.Close()
			return err
		}
	}
	s, err := Start(Options{Config: c, ClientListener: cl, PeerListener: pl, Logger: e.log.With("member", i+1),
		Committed: e.committedHook(i)})
	if err != nil {
		return err
	}
	e.Servers[i] = s
	return nil
}

// Leader is the index of the member that is the established leader, or -1.
func (e *Ensemble) Leader() int {
	for i, s := range e.Servers {
		if s != nil && s.Status().Leading {
			return i
		}
	}
	return -1
}

// Close stops every running member gracefully and returns the first error.
func (e *Ensemble) Close() error {
	var errs []error
	for i, s := range e.Servers {
		if s != nil {
			errs = append(errs, s.Close())
			e.Servers[i] = nil
		}
	}
	return errors.Join(errs...)
}
