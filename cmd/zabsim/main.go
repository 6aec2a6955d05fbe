// Command zabsim runs the ZAB ensemble in the simulated world over many seeds and reports
// what broke. Each seed is one single-threaded world whose whole configuration (cluster
// size, network, disks, fault mix) is drawn from the seed; seeds run in parallel.
//
//	zabsim run                          # the default sweep (bare ZAB peers, sim/cluster)
//	zabsim run -seeds 1000 -parallel 2  # a longer one
//	zabsim run -budget 10m              # as many seeds as ten minutes of wall time allow
//	zabsim run -stack zk -seeds 100     # whole servers with ZooKeeper clients (sim/zk)
//	zabsim run -stack zk -kind snapsync # one sim/zk configuration kind (zk.Kinds; default swarm)
//	zabsim replay -seed 42 -html t.html # print one seed's trace, write its HTML timeline
//	zabsim replay -schedule F           # run a saved fault schedule (scenarios/failover)
//	zabsim shrink -seed 42              # turn a failing seed's faults into a minimal schedule
//
// BUGGIFY (FoundationDB's rare-path hooks) is on for one seed in four by default
// (cluster.SwarmBuggify draws it from the seed; the settings say which sites a seed
// activated); -buggify turns it on for every seed, -buggify=false off. A failing seed gets a
// report directory: its settings, the whole trace, the check's report and the HTML
// timeline; zabsim prints the seed, the replay command and the directory.
package main

import (
	"cmp"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/zabkit/zabkit/sim/cluster"
	"github.com/zabkit/zabkit/sim/zk"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func usage(w io.Writer) {
	fmt.Fprintln(w, `usage: zabsim run [-stack cluster|zk [-kind K]] [-seeds N] [-from S] [-seed S] [-budget D] [-parallel P]
                  [-duration D] [-buggify[=false]] [-bug Name,...] [-reports DIR] [-v]
       zabsim replay -schedule FILE [-seed S] [-html FILE]
       zabsim replay -seed S [-stack cluster|zk [-kind K]] [-duration D] [-buggify[=false]] [-bug Name,...] [-html FILE]
       zabsim shrink -seed S [-duration D] [-bug Name,...] [-runs N] [-o FILE]
       zabsim shrink -schedule FILE [-runs N] [-o FILE]

run sweeps simulated ZAB ensembles, one seed each, and exits 1 if any seed fails; each
failing seed gets a report directory (settings, trace, check report, HTML timeline).
replay runs one fault schedule (or one swarm seed), prints its trace, writes its HTML
timeline with -html, and exits 1 if it fails.
shrink replays a failing swarm seed with its nemesis's faults as a schedule (or a failing
schedule file) and deletes steps while the run still fails the same way; it prints the
minimal schedule.`)
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "replay":
			return replay(args[1:], stdout, stderr)
		case "shrink":
			return shrink(args[1:], stdout, stderr)
		}
	}
	if len(args) == 0 || args[0] != "run" {
		usage(stderr)
		return 2
	}
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	seeds := fs.Int("seeds", 500, "number of seeds to sweep (with -budget: at most)")
	from := fs.Uint64("from", 1, "first seed of the sweep")
	seed := fs.Uint64("seed", 0, "run only this seed")
	budget := fs.Duration("budget", 0, "wall-clock budget: start no seed after it is spent (0: none)")
	parallel := fs.Int("parallel", runtime.GOMAXPROCS(0), "seeds run at once")
	sf := addSeedFlags(fs)
	verbose := fs.Bool("v", false, "with -seed: print the settings and the whole trace")
	reports := fs.String("reports", filepath.Join(os.TempDir(), "zabsim-reports"), "where failing seeds' report directories go")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	single := false
	fs.Visit(func(f *flag.Flag) { single = single || f.Name == "seed" })
	if *verbose && !single {
		fmt.Fprintln(stderr, "zabsim: -v needs -seed (it prints one run's whole trace)")
		return 2
	}
	if *seeds < 1 || *parallel < 1 || *budget < 0 {
		fmt.Fprintln(stderr, "zabsim: -seeds and -parallel must be positive, -budget not negative")
		return 2
	}
	sw, err := sf.sweep(stdout, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "zabsim: %v\n", err)
		return 2
	}
	sw.verbose, sw.reports, sw.budget = *verbose, *reports, *budget
	list := make([]uint64, 0, *seeds)
	if single {
		list = append(list, *seed)
	} else {
		for i := range *seeds {
			list = append(list, *from+uint64(i))
		}
	}
	return sw.run(list, *parallel)
}

// seedFlags are the flags that build a seed's run, shared by run and replay.
type seedFlags struct {
	stack    *string
	kind     *string
	duration *time.Duration
	buggify  buggifyFlag
	bugs     *string
}

func addSeedFlags(fs *flag.FlagSet) *seedFlags {
	sf := &seedFlags{
		stack: fs.String("stack", "cluster", "what runs: cluster (bare ZAB peers and a list state machine, sim/cluster) or zk (whole zab/node servers with ZooKeeper clients, sim/zk)"),
		kind: fs.String("kind", "", "with -stack zk: the sim/zk configuration kind of every seed, one of "+strings.Join(zk.Kinds, ", ")+
			" (default "+defaultZKKind+"; quiet, harsh and lockexpiry have their own fault phase)"),
		duration: fs.Duration("duration", defaultDuration, "simulated fault phase per seed (a liveness phase follows)"),
		bugs:     fs.String("bug", "", "zab.Bugs switches to turn on, comma-separated (the bug zoo; -stack cluster)"),
	}
	fs.Var(&sf.buggify, "buggify", "BUGGIFY: unset, one seed in four (drawn from the seed); -buggify every seed; -buggify=false none")
	return sf
}

// defaultDuration is the sweep's simulated fault phase.
const defaultDuration = 2 * time.Second

func (sf *seedFlags) sweep(stdout, stderr io.Writer) (*sweep, error) {
	if *sf.duration <= 0 {
		return nil, fmt.Errorf("-duration must be positive")
	}
	st, err := stackNamed(*sf.stack, *sf.kind)
	if err != nil {
		return nil, err
	}
	var bugs []string
	if *sf.bugs != "" {
		if st.name != "cluster" {
			return nil, fmt.Errorf("-bug switches zab.Bugs of -stack cluster")
		}
		bugs = strings.Split(*sf.bugs, ",")
		if _, err := st.build(1, *sf.duration, false, bugs); err != nil {
			return nil, err
		}
	}
	return &sweep{stack: st, duration: *sf.duration, buggify: sf.buggify, bugs: bugs, stdout: stdout, stderr: stderr}, nil
}

// replayFlags is the part of a replay command that rebuilds the seed's configuration.
func (sw *sweep) replayFlags() string {
	var b strings.Builder
	if sw.stack.name != "cluster" {
		b.WriteString(" -stack " + sw.stack.name)
	}
	if sw.stack.kind != "" && sw.stack.kind != defaultZKKind {
		b.WriteString(" -kind " + sw.stack.kind)
	}
	if sw.duration != defaultDuration {
		b.WriteString(" -duration " + sw.duration.String())
	}
	if sw.buggify.set {
		fmt.Fprintf(&b, " -buggify=%v", sw.buggify.all)
	}
	if len(sw.bugs) > 0 {
		b.WriteString(" -bug " + strings.Join(sw.bugs, ","))
	}
	return b.String()
}

// buggifyFlag is -buggify: unset, a quarter of the seeds (cluster.SwarmBuggify); set, every
// seed or none.
type buggifyFlag struct{ set, all bool }

func (f *buggifyFlag) String() string {
	if f == nil || !f.set {
		return "auto"
	}
	return fmt.Sprint(f.all)
}

func (f *buggifyFlag) Set(v string) error {
	switch v {
	case "true", "on", "1":
		f.set, f.all = true, true
	case "false", "off", "0":
		f.set, f.all = true, false
	default:
		return fmt.Errorf("-buggify is true or false, got %q", v)
	}
	return nil
}

func (f *buggifyFlag) IsBoolFlag() bool { return true }

// on reports whether the seed runs with BUGGIFY.
func (f buggifyFlag) on(seed uint64) bool {
	if f.set {
		return f.all
	}
	return cluster.SwarmBuggify(seed)
}

type sweep struct {
	stack          stack
	duration       time.Duration
	buggify        buggifyFlag
	bugs           []string
	verbose        bool
	reports        string        // "" : no report directories
	budget         time.Duration // 0: none
	html           string        // replay: write the seed's timeline here
	stdout, stderr io.Writer
}

func (sw *sweep) runSeed(seed uint64, record bool) outcome {
	o, err := sw.stack.build(seed, sw.duration, sw.buggify.on(seed), sw.bugs)
	if err != nil {
		return outcome{seed: seed, failKind: "config", detail: err.Error()}
	}
	return o.run(record)
}

func (sw *sweep) run(seeds []uint64, parallel int) int {
	start := time.Now()
	jobs := make(chan uint64)
	results := make(chan outcome)
	var wg sync.WaitGroup
	for range min(parallel, len(seeds)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range jobs {
				results <- sw.runSeed(s, sw.verbose || sw.html != "")
			}
		}()
	}
	go func() {
		for _, s := range seeds {
			if sw.budget > 0 && time.Since(start) >= sw.budget {
				break
			}
			jobs <- s
		}
		close(jobs)
		wg.Wait()
		close(results)
	}()

	var sum summary
	var failed []outcome
	lastProgress := time.Time{}
	for r := range results {
		sum.add(r)
		if r.failed() {
			failed = append(failed, r)
		}
		if sw.verbose {
			sw.printRun(r)
		}
		if now := time.Now(); now.Sub(lastProgress) > 200*time.Millisecond {
			lastProgress = now
			sw.progress(sum, len(seeds), now.Sub(start))
		}
	}
	sw.progress(sum, len(seeds), time.Since(start))
	fmt.Fprintln(sw.stderr)
	sum.wall = time.Since(start)
	slices.SortFunc(failed, func(a, b outcome) int { return cmp.Compare(a.seed, b.seed) })
	for i, r := range failed {
		sw.printFailure(r, i < reportsMax)
	}
	if sw.html != "" {
		if len(sum.last) != 1 {
			fmt.Fprintf(sw.stderr, "zabsim: -html writes one run's timeline, got %d runs\n", len(sum.last))
			return 2
		}
		if err := writeTimelineFile(sw.html, sw.timelineOf(sum.last[0])); err != nil {
			fmt.Fprintf(sw.stderr, "zabsim: %v\n", err)
			return 2
		}
		fmt.Fprintf(sw.stdout, "timeline: %s\n", sw.html)
	}
	sum.print(sw.stdout, parallel, sw.stack)
	if len(failed) > 0 {
		return 1
	}
	return 0
}

func (sw *sweep) progress(s summary, total int, elapsed time.Duration) {
	rate := float64(s.seeds) / elapsed.Seconds()
	left := total - s.seeds
	eta := time.Duration(0)
	if rate > 0 {
		eta = time.Duration(float64(left) / rate * float64(time.Second))
	}
	if sw.budget > 0 {
		eta = min(eta, max(sw.budget-elapsed, 0))
	}
	fmt.Fprintf(sw.stderr, "\rseeds %d/%d  %.1f seeds/s  failures %d  ETA %v   ", s.seeds, total, rate, s.failures, eta.Round(time.Second))
}

// failureLinesMax is how much of a violation a sweep prints (the report holds all).
const failureLinesMax = 25

// reportsMax bounds the report directories of a sweep: each reruns its seed recording the
// whole trace, and a bug switched on can fail most seeds.
const reportsMax = 10

func (sw *sweep) printFailure(r outcome, report bool) {
	w := sw.stdout
	fmt.Fprintf(w, "\nFAILED seed %d: %s failure at %v\n", r.seed, r.failKind, r.failAt)
	fmt.Fprintf(w, "replay: go run ./cmd/zabsim replay -seed %d%s -html seed-%d.html\n", r.seed, sw.replayFlags(), r.seed)
	if sw.stack.name == "cluster" && !sw.buggify.on(r.seed) {
		// shrink replays seeds without BUGGIFY, so it cannot shrink a buggified failure.
		bug := ""
		if len(sw.bugs) > 0 {
			bug = " -bug " + strings.Join(sw.bugs, ",")
		}
		dur := ""
		if sw.duration != defaultDuration {
			dur = " -duration " + sw.duration.String()
		}
		fmt.Fprintf(w, "shrink its faults: go run ./cmd/zabsim shrink -seed %d%s%s\n", r.seed, dur, bug)
	}
	switch {
	case sw.reports == "":
	case !report:
		fmt.Fprintf(w, "report: not written (the first %d failures have one; replay it with -html)\n", reportsMax)
	default:
		dir, err := sw.writeReport(r)
		if err != nil {
			fmt.Fprintf(w, "report: not written: %v\n", err)
		} else {
			fmt.Fprintf(w, "report: %s (settings.txt, trace.txt, failure.txt, timeline.html)\n", dir)
		}
	}
	fmt.Fprintf(w, "settings:\n%s", r.settings)
	lines := strings.Split(r.detail, "\n")
	if len(lines) > failureLinesMax && !sw.verbose {
		lines = append(lines[:failureLinesMax], fmt.Sprintf("... (%d more lines: see the report)", len(lines)-failureLinesMax))
	}
	fmt.Fprintf(w, "violation:\n  %s\n", strings.Join(lines, "\n  "))
}

func (sw *sweep) printRun(r outcome) {
	w := sw.stdout
	fmt.Fprintf(w, "seed %d settings:\n%s", r.seed, r.settings)
	for _, e := range r.trace {
		fmt.Fprintln(w, e.String())
	}
	fmt.Fprintf(w, "trace hash %016x, %d events, %s\n", r.traceHash, r.events, r.statsText)
}

// summary totals a sweep.
type summary struct {
	seeds, failures int
	events          int64
	simulated       time.Duration
	busy            time.Duration // wall time summed over the seeds
	wall            time.Duration
	buggified       int
	stats           cluster.Stats
	zk              zkTotals
	byKind          map[string]int
	last            []outcome // the runs, when one was asked for (replay)
}

func (s *summary) add(r outcome) {
	s.seeds++
	s.events += r.events
	s.simulated += r.simulated
	s.busy += r.wall
	s.stats.Add(r.cluster)
	s.zk.add(r.zk)
	if r.buggified {
		s.buggified++
	}
	if r.failed() {
		s.failures++
		if s.byKind == nil {
			s.byKind = map[string]int{}
		}
		s.byKind[r.failKind]++
	}
	if r.trace != nil && len(s.last) < 1 {
		s.last = append(s.last, r)
	}
}

func (s *summary) print(w io.Writer, parallel int, stack stack) {
	st := s.stats
	row := func(name string, format string, args ...any) {
		fmt.Fprintf(w, "  %-26s %s\n", name, fmt.Sprintf(format, args...))
	}
	fmt.Fprintln(w, "\nzabsim summary")
	row("stack", "%s", stack)
	row("seeds", "%d (%d with BUGGIFY)", s.seeds, s.buggified)
	fails := fmt.Sprint(s.failures)
	for _, k := range sortedKeys(s.byKind) {
		fails += fmt.Sprintf("  %v=%d", k, s.byKind[k])
	}
	row("failures", "%s", fails)
	row("events", "%d (%.0f per seed)", s.events, float64(s.events)/float64(max(s.seeds, 1)))
	row("simulated time", "%v", s.simulated.Round(time.Millisecond))
	if stack.name == "zk" {
		s.zk.print(row)
	} else {
		row("commits", "%d", st.Commits)
		row("proposals", "%d offered, %d accepted, %d rejected", st.Attempts, st.Proposed, st.Rejected)
		row("elections", "%d", st.Elections)
		row("crashes", "%d (recovery refused %d)", st.Crashes, st.Refusals)
		row("bytes cut at recovery", "%d in %d cuts", st.BytesCut, st.RecoveryCuts)
		row("sync modes", "DIFF=%d TRUNC=%d SNAP=%d", st.SyncDiff, st.SyncTrunc, st.SyncSnap)
		row("snapshots", "%d saved, %d installed by SNAP", st.Snapshots, st.SnapInstalls)
		row("persists / syncs", "%d / %d", st.Persists, st.Syncs)
		row("messages", "%d (%d bytes)", st.Messages, st.MessageBytes)
		row("liveness", "leader <= %d ticks after heal, commit <= %d ticks", st.LeaderAfterHealTicks, st.WorstCommitTicks)
	}
	row("wall time", "%v (parallel %d)", s.wall.Round(time.Millisecond), parallel)
	row("simulated s / wall s", "%.1f (%.1f per core)", s.simulated.Seconds()/s.wall.Seconds(), s.simulated.Seconds()/s.busy.Seconds())
	row("seeds / minute", "%.0f (%.0f per core)", float64(s.seeds)/s.wall.Minutes(), float64(s.seeds)/s.busy.Minutes())
}
