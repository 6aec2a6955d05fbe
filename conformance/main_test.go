package conformance

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// defaultChecks is the number of generated sequences of the default run (rapid's own default
// of 100 would take several minutes: a sequence takes 1–3 s, mostly the waits that keep
// timing out of the outcome). Override with -rapid.checks=N.
const defaultChecks = 30

// defaultSteps is the average number of actions of a generated sequence (rapid's Repeat).
const defaultSteps = 20

// defaultShrinkTime bounds rapid's shrinking of a divergence (its default is 30 s).
const defaultShrinkTime = "20s"

func TestMain(m *testing.M) {
	flag.Parse()
	set := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !set["rapid.checks"] {
		checks := defaultChecks
		if testing.Short() {
			checks /= 5
		}
		_ = flag.Set("rapid.checks", fmt.Sprint(checks))
	}
	if !set["rapid.steps"] {
		_ = flag.Set("rapid.steps", fmt.Sprint(defaultSteps))
	}
	if !set["rapid.shrinktime"] {
		_ = flag.Set("rapid.shrinktime", defaultShrinkTime)
	}
	code := m.Run()
	shared.stop()
	os.Exit(code)
}

// sharedTargets are the two targets the differential tests share: starting a JVM takes
// seconds, so they are started once, on first use, and stopped by TestMain (and killed by
// the kernel if the test binary dies, see Pdeathsig in apache.go).
type sharedTargets struct {
	once  sync.Once
	a, b  Target
	err   error
	stops []func()
	dir   string
}

var shared sharedTargets

func (s *sharedTargets) stop() {
	for _, f := range s.stops {
		f()
	}
	if s.dir != "" {
		_ = os.RemoveAll(s.dir)
	}
}

// targets returns target A (Apache ZooKeeper) and target B: zabd built from this module by
// default, a second Apache ZooKeeper with $ZABKIT_CONFORMANCE_TARGET=apache (the harness
// proving itself), or the server at $ZABKIT_CONFORMANCE_TARGET=host:port. It skips the test
// when Apache ZooKeeper is not installed.
func targets(t *testing.T) (Target, Target) {
	t.Helper()
	shared.once.Do(func() {
		shared.dir, shared.err = os.MkdirTemp("", "zabkit-conformance-")
		if shared.err != nil {
			return
		}
		var stop func()
		shared.a, stop, shared.err = ApacheStarter("apache-A")(DefaultSettings, shared.dir)
		if shared.err != nil {
			return
		}
		shared.stops = append(shared.stops, stop)
		b, fromEnv, err := TargetFromEnv()
		switch {
		case err != nil:
			shared.err = err
			return
		case fromEnv:
			shared.b = b
			return
		case strings.TrimSpace(os.Getenv(TargetEnv)) == "apache":
			shared.b, stop, shared.err = ApacheStarter("apache-B")(DefaultSettings, shared.dir)
		default:
			shared.b, stop, shared.err = ZabdStarter()(DefaultSettings, shared.dir)
		}
		if shared.err == nil {
			shared.stops = append(shared.stops, stop)
		}
	})
	if errors.Is(shared.err, ErrApacheMissing) {
		t.Skipf("skipping: %v", shared.err)
	}
	if shared.err != nil {
		t.Fatalf("starting the differential targets: %v", shared.err)
	}
	return shared.a, shared.b
}

// apacheInstall returns the installed Apache ZooKeeper or skips the test.
func apacheInstall(t *testing.T) ApacheInstall {
	t.Helper()
	inst, err := FindApache()
	if errors.Is(err, ErrApacheMissing) {
		t.Skipf("skipping: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return inst
}

var prefixCounter atomic.Int64

var prefixEpoch = time.Now().UnixNano()

// nextPrefix returns a fresh run prefix of fixed length (so that data sized to the frame
// limit has the same size in every run).
func nextPrefix() string {
	return fmt.Sprintf("/cf%016x%06d", prefixEpoch, prefixCounter.Add(1))
}
