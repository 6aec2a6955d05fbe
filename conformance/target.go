package conformance

import (
	"fmt"
	"os"
	"strings"
)

// TargetEnv names the environment variable that selects target B of the differential tests:
// host:port of a running server started with DefaultSettings (zoo.cfg from
// Settings.ZooCfg). Unset, target B is a second standalone Apache ZooKeeper, so the harness
// proves itself (Apache against Apache must always agree).
const TargetEnv = "ZABKIT_CONFORMANCE_TARGET"

// TargetStarter starts a target in-process or as a child process and returns it with a stop
// function. zabd plugs in here once cmd/zabd exists (see README.md): the same Settings, a
// directory to keep its files in.
type TargetStarter func(s Settings, dir string) (Target, func(), error)

// TargetFromEnv returns the target named by $ZABKIT_CONFORMANCE_TARGET, or ok = false when
// the variable is unset.
func TargetFromEnv() (t Target, ok bool, err error) {
	addr := strings.TrimSpace(os.Getenv(TargetEnv))
	if addr == "" {
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
