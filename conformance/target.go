package conformance

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// TargetEnv names the environment variable that selects target B of the differential tests:
// unset or "zabd", cmd/zabd built from this module and started (ZabdStarter); "apache", a
// second standalone Apache ZooKeeper, so the harness proves itself (Apache against Apache
// must always agree); host:port, a running server started with DefaultSettings (zoo.cfg
// from Settings.ZooCfg).
const TargetEnv = "ZABKIT_CONFORMANCE_TARGET"

// TargetStarter starts a target in-process or as a child process and returns it with a stop
// function. zabd plugs in here once cmd/zabd exists (see README.md): the same Settings, a
// directory to keep its files in.
type TargetStarter func(s Settings, dir string) (Target, func(), error)

// TargetFromEnv returns the target named by $ZABKIT_CONFORMANCE_TARGET, or ok = false when
// the variable is unset.
func TargetFromEnv() (t Target, ok bool, err error) {
	addr := strings.TrimSpace(os.Getenv(TargetEnv))
	if addr == "" || addr == "zabd" || addr == "apache" {
		return Target{}, false, nil
	}
	if !strings.Contains(addr, ":") {
		return Target{}, false, fmt.Errorf("conformance: %s=%q: want host:port", TargetEnv, addr)
	}
	return Target{Name: "target(" + addr + ")", Addr: addr, Settings: DefaultSettings}, true, nil
}

// ApacheStarter is the TargetStarter of a standalone Apache ZooKeeper.
func ApacheStarter(name string) TargetStarter {
	return func(s Settings, dir string) (Target, func(), error) {
		inst, err := FindApache()
		if err != nil {
			return Target{}, nil, err
		}
		srv, err := StartApache(inst, s, dir)
		if err != nil {
			return Target{}, nil, err
		}
		return Target{Name: name, Addr: srv.Addr, Settings: s}, srv.Stop, nil
	}
}

// ZabdStarter is the TargetStarter of a standalone zabd built from this module's cmd/zabd
// (go build, once per starter) and started with the zoo.cfg Settings renders.
func ZabdStarter() TargetStarter {
	return func(s Settings, dir string) (Target, func(), error) {
		bin, err := BuildZabd(dir)
		if err != nil {
			return Target{}, nil, err
		}
		srv, err := StartZabd(bin, s, dir)
		if err != nil {
			return Target{}, nil, err
		}
		return Target{Name: "zabd", Addr: srv.Addr, Settings: s}, srv.Stop, nil
	}
}

// BuildZabd builds this module's cmd/zabd into dir and returns the binary's path.
func BuildZabd(dir string) (string, error) {
	bin := filepath.Join(dir, "zabd")
	build := exec.Command("go", "build", "-o", bin, "github.com/zabkit/zabkit/cmd/zabd")
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("conformance: building zabd: %v\n%s", err, out)
	}
	return bin, nil
}

// StartZabd starts the zabd binary as a standalone server with settings s in a fresh
// directory under dir, on a free 127.0.0.1 port, and waits until it serves.
func StartZabd(bin string, s Settings, dir string) (*Server, error) {
	ports, err := freePorts(1)
	if err != nil {
		return nil, err
	}
	srv, err := launchZabd(bin, s, dir, 0, ports[0], nil)
	if err != nil {
		return nil, err
	}
	if err := srv.waitServing(); err != nil {
		srv.Stop()
		return nil, err
	}
	return srv, nil
}

// StartZabdEnsemble starts n zabd servers forming one ensemble, as StartApacheEnsemble does
// for Apache ZooKeeper (the same zoo.cfg, a myid file each), and waits until every member
// serves clients. On error every started member is stopped.
func StartZabdEnsemble(bin string, s Settings, dir string, n int) ([]*Server, error) {
	members, err := ensembleMembers(n)
	if err != nil {
		return nil, err
	}
	return startEnsemble(members, func(m Member) (*Server, error) {
		return launchZabd(bin, s, dir, m.ID, m.ClientPort, members)
	})
}

func launchZabd(bin string, s Settings, dir string, id, clientPort int, members []Member) (*Server, error) {
	home, _, cfg, err := serverHome(s, dir, "zabd", id, clientPort, members)
	if err != nil {
		return nil, err
	}
	return startProcess(exec.Command(bin, "-log-level", "warn", cfg), home, clientPort)
}
