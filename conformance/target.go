package conformance

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// TargetEnv names the environment variable that selects target B of the differential tests:
// host:port of a running server started with DefaultSettings (zoo.cfg from
// Settings.ZooCfg), or "zabd" to build and start cmd/zabd (ZabdStarter). Unset, target B is a
// second standalone Apache ZooKeeper, so the harness proves itself (Apache against Apache
// must always agree).
const TargetEnv = "ZABKIT_CONFORMANCE_TARGET"

// TargetStarter starts a target in-process or as a child process and returns it with a stop
// function. zabd plugs in here once cmd/zabd exists (see README.md): the same Settings, a
// directory to keep its files in.
type TargetStarter func(s Settings, dir string) (Target, func(), error)

// TargetFromEnv returns the target named by $ZABKIT_CONFORMANCE_TARGET, or ok = false when
// the variable is unset.
func TargetFromEnv() (t Target, ok bool, err error) {
	addr := strings.TrimSpace(os.Getenv(TargetEnv))
	if addr == "" || addr == "zabd" {
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
		bin := filepath.Join(dir, "zabd")
		build := exec.Command("go", "build", "-o", bin, "github.com/zabkit/zabkit/cmd/zabd")
		if out, err := build.CombinedOutput(); err != nil {
			return Target{}, nil, fmt.Errorf("conformance: building zabd: %v\n%s", err, out)
		}
		srv, err := StartZabd(bin, s, dir)
		if err != nil {
			return Target{}, nil, err
		}
		return Target{Name: "zabd", Addr: srv.Addr, Settings: s}, srv.Stop, nil
	}
}

// StartZabd starts the zabd binary as a standalone server with settings s in a fresh
// directory under dir, on a free 127.0.0.1 port, and waits until it serves.
func StartZabd(bin string, s Settings, dir string) (*Server, error) {
	ports, err := freePorts(1)
	if err != nil {
		return nil, err
	}
	home, err := os.MkdirTemp(dir, "zabd-")
	if err != nil {
		return nil, err
	}
	data := filepath.Join(home, "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		return nil, err
	}
	cfg := filepath.Join(home, "zoo.cfg")
	if err := os.WriteFile(cfg, []byte(s.ZooCfg(data, ports[0], nil)), 0o644); err != nil {
		return nil, err
	}
	srv, err := startProcess(exec.Command(bin, "-log-level", "warn", cfg), home, ports[0])
	if err != nil {
		return nil, err
	}
	if err := srv.waitServing(); err != nil {
		srv.Stop()
		return nil, err
	}
	return srv, nil
}
