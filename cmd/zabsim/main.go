// Command zabsim runs the ZAB ensemble in the simulated world over many seeds and reports
// what broke. Each seed is one single-threaded world whose whole configuration (cluster
// size, network, disks, fault mix) is drawn from the seed; seeds run in parallel.
//
//	zabsim run                         # the default sweep
//	zabsim run -seeds 1000 -parallel 2 # a longer one
//	zabsim run -seed 42 -v             # replay one seed and print its whole trace
//	zabsim replay -schedule F [-v]     # run a saved fault schedule (scenarios/failover)
//	zabsim shrink -seed 42             # turn a failing seed's faults into a minimal schedule
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/zabkit/zabkit/sim/cluster"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func usage(w io.Writer) {
	fmt.Fprintln(w, `usage: zabsim run [-seeds N] [-from S] [-seed S] [-parallel P] [-duration D] [-v]
       zabsim replay -schedule FILE [-seed S] [-v]
       zabsim replay -seed S [-duration D] [-v]
       zabsim shrink -seed S [-duration D] [-bug Name,...] [-runs N] [-o FILE]
       zabsim shrink -schedule FILE [-runs N] [-o FILE]

run sweeps simulated ZAB ensembles, one seed each, and exits 1 if any seed fails.
replay runs one fault schedule (or one swarm seed) and exits 1 if it fails.
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
	seeds := fs.Int("seeds", 500, "number of seeds to sweep")
	from := fs.Uint64("from", 1, "first seed of the sweep")
	seed := fs.Uint64("seed", 0, "run only this seed")
	parallel := fs.Int("parallel", runtime.GOMAXPROCS(0), "seeds run at once")
	duration := fs.Duration("duration", 2*time.Second, "simulated fault phase per seed (a liveness phase follows)")
	verbose := fs.Bool("v", false, "with -seed: print the settings and the whole trace")
	buggify := fs.Bool("buggify", false, "turn on BUGGIFY: each seed activates its own quarter of the core's rare-path hooks")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	single := false
	fs.Visit(func(f *flag.Flag) { single = single || f.Name == "seed" })
	if *verbose && !single {
		fmt.Fprintln(stderr, "zabsim: -v needs -seed (it prints one run's whole trace)")
		return 2
	}
	if *seeds < 1 || *parallel < 1 || *duration <= 0 {
		fmt.Fprintln(stderr, "zabsim: -seeds, -parallel and -duration must be positive")
		return 2
	}
	list := make([]uint64, 0, *seeds)
	if single {
		list = append(list, *seed)
	} else {
		for i := range *seeds {
			list = append(list, *from+uint64(i))
		}
	}
	sw := sweep{duration: *duration, verbose: *verbose, buggify: *buggify, stdout: stdout, stderr: stderr, replayDuration: replayFlag(*duration)}
	return sw.run(list, *parallel)
}

// replayFlag is the -duration part of a replay command ("" for the default).
func replayFlag(d time.Duration) string {
	if d == 2*time.Second {
		return ""
	}
	return " -duration " + d.String()
}

type sweep struct {
	duration       time.Duration
	verbose        bool
	buggify        bool
	replayDuration string
	stdout, stderr io.Writer
}

func (sw *sweep) run(seeds []uint64, parallel int) int {
	start := time.Now()
	jobs := make(chan uint64)
	results := make(chan cluster.Result)
	var wg sync.WaitGroup
	for range min(parallel, len(seeds)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range jobs {
				o := cluster.Swarm(s, sw.duration)
				o.Record = sw.verbose
				o.Buggify = sw.buggify
				results <- cluster.Run(o)
			}
		}()
	}
	go func() {
		for _, s := range seeds {
			jobs <- s
		}
		close(jobs)
		wg.Wait()
		close(results)
	}()

	var sum summary
	var failed []cluster.Result
	lastProgress := time.Time{}
	for r := range results {
		sum.add(r)
		if r.Failed() {
			failed = append(failed, r)
		}
		if sw.verbose {
			sw.printRun(r)
		}
		if now := time.Now(); now.Sub(lastProgress) > 200*time.Millisecond || sum.seeds == len(seeds) {
			lastProgress = now
			sw.progress(sum, len(seeds), now.Sub(start))
		}
	}
	fmt.Fprintln(sw.stderr)
	sum.wall = time.Since(start)
	for _, r := range failed {
		sw.printFailure(r)
	}
	sum.print(sw.stdout, parallel)
	if len(failed) > 0 {
		return 1
	}
	return 0
}

func (sw *sweep) progress(s summary, total int, elapsed time.Duration) {
	rate := float64(s.seeds) / elapsed.Seconds()
	eta := time.Duration(0)
	if rate > 0 {
		eta = time.Duration(float64(total-s.seeds) / rate * float64(time.Second))
	}
	fmt.Fprintf(sw.stderr, "\rseeds %d/%d  %.1f seeds/s  failures %d  ETA %v   ", s.seeds, total, rate, s.failures, eta.Round(time.Second))
}

// failureLinesMax is how much of a violation a sweep prints (the replay prints all).
const failureLinesMax = 25

func (sw *sweep) printFailure(r cluster.Result) {
	w := sw.stdout
	fmt.Fprintf(w, "\nFAILED seed %d: %v failure at %v\n", r.Seed, r.Failure.Kind, r.Failure.At)
	if sw.buggify {
		// shrink replays seeds without BUGGIFY, so it cannot shrink this failure.
		fmt.Fprintf(w, "replay: go run ./cmd/zabsim run -seed %d%s -buggify -v\n", r.Seed, sw.replayDuration)
	} else {
		fmt.Fprintf(w, "replay: go run ./cmd/zabsim run -seed %d%s -v\n", r.Seed, sw.replayDuration)
		fmt.Fprintf(w, "shrink its faults: go run ./cmd/zabsim shrink -seed %d%s\n", r.Seed, sw.replayDuration)
	}
	fmt.Fprintf(w, "settings:\n%s", r.SettingsText())
	lines := strings.Split(r.Failure.Detail, "\n")
	if len(lines) > failureLinesMax && !sw.verbose {
		lines = append(lines[:failureLinesMax], fmt.Sprintf("... (%d more lines: replay it)", len(lines)-failureLinesMax))
	}
	fmt.Fprintf(w, "violation:\n  %s\n", strings.Join(lines, "\n  "))
}

func (sw *sweep) printRun(r cluster.Result) {
	w := sw.stdout
	fmt.Fprintf(w, "seed %d settings:\n%s", r.Seed, r.SettingsText())
	for _, l := range r.Trace {
		fmt.Fprintln(w, l)
	}
	fmt.Fprintf(w, "trace hash %016x, %d events, stats %+v\n", r.TraceHash, r.Events, r.Stats)
}

// summary totals a sweep.
type summary struct {
	seeds, failures int
	events          int64
	simulated       time.Duration
	busy            time.Duration // wall time summed over the seeds
	wall            time.Duration
	stats           cluster.Stats
	byKind          map[cluster.FailKind]int
}

func (s *summary) add(r cluster.Result) {
	s.seeds++
	s.events += r.Events
	s.simulated += r.Simulated
	s.busy += r.Wall
	s.stats.Add(r.Stats)
	if r.Failed() {
		s.failures++
		if s.byKind == nil {
			s.byKind = map[cluster.FailKind]int{}
		}
		s.byKind[r.Failure.Kind]++
	}
}

func (s *summary) print(w io.Writer, parallel int) {
	st := s.stats
	row := func(name string, format string, args ...any) {
		fmt.Fprintf(w, "  %-26s %s\n", name, fmt.Sprintf(format, args...))
	}
	fmt.Fprintln(w, "\nzabsim summary")
	row("seeds", "%d", s.seeds)
	fails := fmt.Sprint(s.failures)
	for k := cluster.FailSafety; k <= cluster.FailConfig; k++ {
		if n := s.byKind[k]; n > 0 {
			fails += fmt.Sprintf("  %v=%d", k, n)
		}
	}
	row("failures", "%s", fails)
	row("events", "%d (%.0f per seed)", s.events, float64(s.events)/float64(s.seeds))
	row("simulated time", "%v", s.simulated.Round(time.Millisecond))
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
	row("wall time", "%v (parallel %d)", s.wall.Round(time.Millisecond), parallel)
	row("simulated s / wall s", "%.1f (%.1f per core)", s.simulated.Seconds()/s.wall.Seconds(), s.simulated.Seconds()/s.busy.Seconds())
	row("seeds / minute", "%.0f", float64(s.seeds)/s.wall.Minutes())
}
