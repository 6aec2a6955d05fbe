package failover

import (
	"flag"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/zabkit/zabkit/sim/cluster"
)

// huntResult is what one rapid run against a bug found.
type huntResult struct {
	minimal *Schedule // nil: rapid found no failing schedule
	found   *Schedule // the first failing schedule rapid drew, before shrinking
	runs    int       // schedules run, searching and shrinking
	report  string    // rapid's report (its errors and the minimal case's log)
}

// hunt runs the failover property with bugs switched on, under rapid, with a fixed rapid
// seed and check count so the search is the same on every run, without rapid's fail file
// (the minimal schedule is the result). Shrinking is bounded by shrinkTime of wall time, so
// how far it gets depends on the machine. rapid reports to a recordingTB rather than to t:
// here a failure is the expected outcome, which the caller checks.
func hunt(t *testing.T, bugs []string, until time.Duration, seed uint64, checks int, shrinkTime time.Duration) huntResult {
	t.Helper()
	if testing.Short() {
		checks *= 5 // rapid runs a fifth of -rapid.checks under -short; the hunt's bound is fixed
	}
	restore := setFlags(t, map[string]string{
		"rapid.seed":       fmt.Sprint(seed),
		"rapid.checks":     fmt.Sprint(checks),
		"rapid.nofailfile": "true",
		"rapid.shrinktime": shrinkTime.String(),
	})
	defer restore()
	var minimal, found *Schedule
	runs := 0
	ran := func(s Schedule, r cluster.Result) {
		runs++
		if r.Failed() && found == nil {
			found = &s
		}
	}
	rec := &recordingTB{name: t.Name() + "/hunt"}
	done := make(chan struct{})
	go func() { // rapid ends a failed check with FailNow, which leaves this goroutine
		defer close(done)
		rapid.Check(rec, property(bugs, until, &minimal, ran))
	}()
	<-done
	if !rec.Failed() {
		return huntResult{report: rec.text(), runs: runs}
	}
	return huntResult{minimal: minimal, found: found, runs: runs, report: rec.text()}
}

// setFlags sets rapid's command-line flags for a while; the returned func puts them back.
func setFlags(t *testing.T, values map[string]string) func() {
	t.Helper()
	commandLineFlags() // note what the command line gave before changing anything
	old := map[string]string{}
	for name, v := range values {
		f := flag.Lookup(name)
		if f == nil {
			t.Fatalf("rapid has no flag -%s", name)
		}
		old[name] = f.Value.String()
		if err := flag.Set(name, v); err != nil {
			t.Fatalf("setting -%s=%s: %v", name, v, err)
		}
	}
	return func() {
		for name, v := range old {
			_ = flag.Set(name, v)
		}
	}
}

// recordingTB is a rapid.TB that records instead of failing a test.
type recordingTB struct {
	name   string
	mu     sync.Mutex
	failed bool
	lines  []string
}

func (r *recordingTB) Helper()      {}
func (r *recordingTB) Name() string { return r.name }
func (r *recordingTB) Logf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines = append(r.lines, fmt.Sprintf(format, args...))
}
func (r *recordingTB) Log(args ...any)                   { r.Logf("%s", fmt.Sprint(args...)) }
func (r *recordingTB) Skipf(format string, args ...any)  { r.Logf(format, args...); r.SkipNow() }
func (r *recordingTB) Skip(args ...any)                  { r.Log(args...); r.SkipNow() }
func (r *recordingTB) SkipNow()                          { runtime.Goexit() }
func (r *recordingTB) Errorf(format string, args ...any) { r.Logf(format, args...); r.Fail() }
func (r *recordingTB) Error(args ...any)                 { r.Log(args...); r.Fail() }
func (r *recordingTB) Fatalf(format string, args ...any) { r.Logf(format, args...); r.FailNow() }
func (r *recordingTB) Fatal(args ...any)                 { r.Log(args...); r.FailNow() }
func (r *recordingTB) FailNow()                          { r.Fail(); runtime.Goexit() }
func (r *recordingTB) Fail() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = true
}
func (r *recordingTB) Failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failed
}
func (r *recordingTB) text() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.lines, "\n")
}
