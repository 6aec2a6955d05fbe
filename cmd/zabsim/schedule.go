package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/zabkit/zabkit/scenarios/failover"
	"github.com/zabkit/zabkit/sim"
	"github.com/zabkit/zabkit/sim/cluster"
)

// replay runs one saved fault schedule, or one swarm seed, prints its settings and its
// whole trace, and with -html writes its timeline.
func replay(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("schedule", "", "fault schedule file to run (scenarios/failover's text form)")
	seed := fs.Uint64("seed", 0, "with -schedule: run it on this seed instead of its own; alone: the swarm seed to replay")
	sf := addSeedFlags(fs)
	htmlPath := fs.String("html", "", "write the run's HTML timeline to this file")
	quiet := fs.Bool("q", false, "do not print the trace (the summary and -html only)")
	fs.Bool("v", true, "print the settings and the whole trace (the default; kept for old commands)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "zabsim replay: unexpected arguments %q\n", fs.Args())
		return 2
	}
	if *path == "" {
		if !set["seed"] {
			fmt.Fprintln(stderr, "zabsim replay: needs -schedule FILE or -seed N")
			return 2
		}
		sw, err := sf.sweep(stdout, stderr)
		if err != nil {
			fmt.Fprintf(stderr, "zabsim replay: %v\n", err)
			return 2
		}
		sw.verbose, sw.html = !*quiet, *htmlPath
		return sw.run([]uint64{*seed}, 1)
	}
	for _, name := range []string{"stack", "kind", "duration", "buggify", "bug"} {
		if set[name] {
			fmt.Fprintf(stderr, "zabsim replay: -%s is for -seed alone: a schedule file names its own configuration\n", name)
			return 2
		}
	}
	s, err := readSchedule(*path)
	if err != nil {
		fmt.Fprintf(stderr, "zabsim replay: %v\n", err)
		return 2
	}
	if set["seed"] {
		s.Seed = *seed
	}
	var world *sim.World
	o, err := s.Options()
	if err != nil {
		fmt.Fprintf(stderr, "zabsim replay: %s: %v\n", *path, err)
		return 2
	}
	o.Record = true
	steps := o.Hooks.Start
	o.Hooks.Start = func(c *cluster.Cluster) {
		world = c.World()
		if steps != nil {
			steps(c)
		}
	}
	r := cluster.Run(o)
	if !*quiet {
		fmt.Fprintf(stdout, "schedule %s:\n%s\nsettings:\n%s", *path, s, r.SettingsText())
		for _, l := range r.Trace {
			fmt.Fprintln(stdout, l)
		}
		fmt.Fprintf(stdout, "trace hash %016x, %d events\n", r.TraceHash, r.Events)
	}
	fmt.Fprintf(stdout, "stats %+v\n", r.Stats)
	if *htmlPath != "" && world != nil {
		t := timeline{title: fmt.Sprintf("zabsim: schedule %s, seed %d", *path, s.Seed), seed: s.Seed, settings: r.SettingsText(),
			events: world.Trace.Events(), replay: fmt.Sprintf("go run ./cmd/zabsim replay -schedule %s", *path)}
		if r.Failed() {
			t.failure, t.failKind, t.failAt = r.Failure.Detail, r.Failure.Kind.String(), r.Failure.At
		}
		if err := writeTimelineFile(*htmlPath, t); err != nil {
			fmt.Fprintf(stderr, "zabsim replay: %v\n", err)
			return 2
		}
		fmt.Fprintf(stdout, "timeline: %s\n", *htmlPath)
	}
	if r.Failed() {
		fmt.Fprintf(stdout, "FAILED: schedule %s (%d steps, seed %d): %v\n", *path, len(s.Steps), s.Seed, r.Failure)
		return 1
	}
	fmt.Fprintf(stdout, "ok: schedule %s (%d steps, seed %d) passes every check (%v simulated in %v)\n",
		*path, len(s.Steps), s.Seed, r.Simulated.Round(time.Millisecond), r.Wall.Round(time.Millisecond))
	return 0
}

func readSchedule(path string) (failover.Schedule, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return failover.Schedule{}, err
	}
	s, err := failover.Parse(string(text))
	if err != nil {
		return failover.Schedule{}, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// shrink minimizes the faults of a failing swarm seed.
func shrink(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("shrink", flag.ContinueOnError)
	fs.SetOutput(stderr)
	seed := fs.Uint64("seed", 0, "the failing swarm seed")
	path := fs.String("schedule", "", "shrink this failing schedule file instead of a seed's faults")
	duration := fs.Duration("duration", 2*time.Second, "the seed's fault phase (as given to zabsim run)")
	bugList := fs.String("bug", "", "zab.Bugs switches to turn on, comma-separated (to shrink a bug-zoo failure)")
	runsMax := fs.Int("runs", 500, "most runs the shrinker makes")
	out := fs.String("o", "", "also write the minimal schedule to this file")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	seedSet := false
	fs.Visit(func(f *flag.Flag) { seedSet = seedSet || f.Name == "seed" })
	switch {
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "zabsim shrink: unexpected arguments %q\n", fs.Args())
		return 2
	case seedSet == (*path != ""):
		fmt.Fprintln(stderr, "zabsim shrink: needs -seed N (a failing seed of zabsim run) or -schedule FILE, not both")
		return 2
	case *path != "" && *bugList != "":
		fmt.Fprintln(stderr, "zabsim shrink: a schedule file names its own bugs (its bugs line); -bug is for -seed")
		return 2
	case *duration <= 0 || *runsMax < 1:
		fmt.Fprintln(stderr, "zabsim shrink: -duration and -runs must be positive")
		return 2
	}
	var bugs []string
	if *bugList != "" {
		bugs = strings.Split(*bugList, ",")
	}
	// Validate the bug names before the long part.
	if _, err := (failover.Schedule{Seed: *seed, Base: failover.BaseSwarm, FaultsUntil: *duration, Bugs: bugs}).Options(); err != nil {
		fmt.Fprintf(stderr, "zabsim shrink: %v\n", err)
		return 2
	}

	start := time.Now()
	var s failover.Schedule
	var sig string // how the run fails: a smaller schedule must fail the same way
	if *path != "" {
		var err error
		if s, err = readSchedule(*path); err != nil {
			fmt.Fprintf(stderr, "zabsim shrink: %v\n", err)
			return 2
		}
		r, err := s.Run()
		switch {
		case err != nil:
			fmt.Fprintf(stderr, "zabsim shrink: %s: %v\n", *path, err)
			return 2
		case !r.Failed():
			fmt.Fprintf(stdout, "schedule %s passes: nothing to shrink\n", *path)
			return 0
		}
		sig = failover.Signature(r.Failure)
		fmt.Fprintf(stdout, "schedule %s (%d steps) fails: %s\nshrinking...\n", *path, len(s.Steps), firstLine(r.Failure.String()))
	} else {
		orig, events := recordSwarm(*seed, *duration, bugs)
		if !orig.Failed() {
			fmt.Fprintf(stdout, "seed %d passes (duration %v, bugs %v): nothing to shrink\n", *seed, *duration, bugs)
			return 0
		}
		fmt.Fprintf(stdout, "seed %d fails: %s\n", *seed, firstLine(orig.Failure.String()))
		s = failover.Schedule{Seed: *seed, Base: failover.BaseSwarm, FaultsUntil: *duration, Bugs: bugs, Steps: failover.FromTrace(events)}
		sig = failover.Signature(orig.Failure)
	}
	fails := func(c failover.Schedule) bool {
		r, err := c.Run()
		return err == nil && failover.Signature(r.Failure) == sig
	}
	if *path == "" {
		if !fails(s) {
			fmt.Fprintf(stdout, "its nemesis's %d faults, replayed as a schedule with the nemesis off, do not fail the same way: cannot shrink\n", len(s.Steps))
			return 1
		}
		fmt.Fprintf(stdout, "its nemesis injected %d faults; the schedule of them fails the same way (%s); shrinking...\n", len(s.Steps), sig)
	}
	minimal, runs := failover.Shrink(s, fails, *runsMax)
	r, err := minimal.Run()
	if err != nil || !r.Failed() {
		fmt.Fprintf(stderr, "zabsim shrink: the minimal schedule does not fail when run again (%v): the runs are not deterministic\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "minimal schedule: %d of %d steps, after %d runs in %v\n", len(minimal.Steps), len(s.Steps), runs, time.Since(start).Round(time.Millisecond))
	if runs >= *runsMax {
		fmt.Fprintf(stdout, "(the %d-run budget ran out: it may shrink further with a larger -runs)\n", *runsMax)
	}
	fmt.Fprintf(stdout, "failure: %s\n\n%s", firstLine(r.Failure.String()), minimal)
	if *out != "" {
		from := fmt.Sprintf("zabsim run seed %d (duration %v)", *seed, *duration)
		if *path != "" {
			from = *path
		}
		header := fmt.Sprintf("# shrunk from %s by zabsim shrink; replay: zabsim replay -schedule FILE -v\n", from)
		if err := os.WriteFile(*out, []byte(header+minimal.String()), 0o644); err != nil {
			fmt.Fprintf(stderr, "zabsim shrink: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "\nsaved to %s; replay: go run ./cmd/zabsim replay -schedule %s -v\n", *out, *out)
	}
	return 0
}

// recordSwarm runs a swarm seed as zabsim run does (with bugs, if any) and returns its
// result and its recorded trace events, whose KindFault events are the nemesis's faults.
func recordSwarm(seed uint64, duration time.Duration, bugs []string) (cluster.Result, []sim.Event) {
	o := cluster.Swarm(seed, duration)
	o.Record = true
	var world *sim.World
	o.Hooks.Start = func(c *cluster.Cluster) { world = c.World() }
	r, err := failover.RunWithBugs(o, bugs) // the names were checked: err is nil
	if err != nil || world == nil {
		return r, nil
	}
	return r, world.Trace.Events()
}

func firstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}
