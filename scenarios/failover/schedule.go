package failover

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/zabkit/zabkit/zab"
)

// Action is what one step of a schedule does.
type Action uint8

// The actions, cheapest first: rapid shrinks an action's number towards zero, so a step it
// cannot delete drifts towards the plainer faults.
const (
	// Heal removes every partition and cut.
	Heal Action = iota
	// Crash stops a server; its disk keeps what the run's disk faults keep (Quiet: only what
	// was synced).
	Crash
	// Restart boots a crashed server from its disk.
	Restart
	// Isolate cuts a server off from every other, both ways.
	Isolate
	// Cut drops every message From -> To, while To -> From still flows (a one-way partition).
	Cut
	// Partition splits the servers into Group and Other, which cannot reach each other.
	// Servers in neither keep their links (netsim's Partition); it replaces earlier cuts.
	Partition
	// PowerCut crashes a server in a power loss that tears its disk: every unsynced write
	// but the last survives, and the last only as a random prefix (vdisk's tear), so recovery
	// must cut a torn log tail.
	PowerCut
	// Corrupt crashes a server and flips one bit in a synced block of one of its log files;
	// it stays down until a restart step or the end of the fault phase. Recovery must cut the
	// damage or refuse the disk, never replay it.
	Corrupt

	actionsCount
)

var actionNames = [actionsCount]string{
	Heal: "heal", Crash: "crash", Restart: "restart", Isolate: "isolate", Cut: "cut",
	Partition: "partition", PowerCut: "powercut", Corrupt: "corrupt",
}

func (a Action) String() string {
	if a < actionsCount {
		return actionNames[a]
	}
	return fmt.Sprintf("Action(%d)", uint8(a))
}

// Step is one fault at a virtual time.
type Step struct {
	At     time.Duration
	Action Action
	// Server is the target of Crash, Restart, Isolate, PowerCut and Corrupt, and the sender
	// side of Cut.
	Server string
	// To is the receiver side of Cut.
	To string
	// Group and Other are the two sides of a Partition.
	Group, Other []string
}

// Text renders the fault without its time, in the words sim's nemesis writes to the trace
// ("crash s2", "partition {s1,s2} {s3}", "cut s1->s3"), so a swarm run's faults parse as
// steps and a replayed schedule's trace reads like the nemesis run it came from.
func (s Step) Text() string {
	switch s.Action {
	case Heal:
		return "heal"
	case Cut:
		return fmt.Sprintf("cut %s->%s", s.Server, s.To)
	case Partition:
		return fmt.Sprintf("partition {%s} {%s}", strings.Join(s.Group, ","), strings.Join(s.Other, ","))
	}
	return s.Action.String() + " " + s.Server
}

// String renders the step as one line of a schedule: "at 120ms crash s2".
func (s Step) String() string { return "at " + s.At.String() + " " + s.Text() }

// ParseStepText parses a fault in the form Text writes.
func ParseStepText(text string) (Step, error) {
	word, rest, _ := strings.Cut(strings.TrimSpace(text), " ")
	rest = strings.TrimSpace(rest)
	var s Step
	a := slices.Index(actionNames[:], word)
	if a < 0 {
		return s, fmt.Errorf("unknown fault %q (want one of %s)", word, strings.Join(actionNames[:], ", "))
	}
	s.Action = Action(a)
	switch s.Action {
	case Heal:
		if rest != "" {
			return s, fmt.Errorf("heal takes no argument, got %q", rest)
		}
	case Cut:
		from, to, ok := strings.Cut(rest, "->")
		if !ok || !isName(from) || !isName(to) || from == to {
			return s, fmt.Errorf("cut wants FROM->TO between two servers, got %q", rest)
		}
		s.Server, s.To = from, to
	case Partition:
		var err error
		if s.Group, s.Other, err = parseGroups(rest); err != nil {
			return s, err
		}
	default:
		if !isName(rest) {
			return s, fmt.Errorf("%s wants one server name, got %q", word, rest)
		}
		s.Server = rest
	}
	return s, nil
}

// parseGroups parses "{s1,s2} {s3}": two non-empty, disjoint groups.
func parseGroups(text string) (a, b []string, err error) {
	fields := strings.Fields(text)
	if len(fields) != 2 {
		return nil, nil, fmt.Errorf("partition wants two groups {..} {..}, got %q", text)
	}
	var groups [2][]string
	seen := map[string]bool{}
	for i, f := range fields {
		inner, open := strings.CutPrefix(f, "{")
		inner, closed := strings.CutSuffix(inner, "}")
		if !open || !closed || inner == "" {
			return nil, nil, fmt.Errorf("partition group %q is not a non-empty {a,b,..}", f)
		}
		for _, name := range strings.Split(inner, ",") {
			if !isName(name) || seen[name] {
				return nil, nil, fmt.Errorf("partition group %q: bad or repeated server %q", f, name)
			}
			seen[name] = true
			groups[i] = append(groups[i], name)
		}
	}
	return groups[0], groups[1], nil
}

// isName accepts the cluster's server names, "s" and a number from 1.
func isName(s string) bool {
	n, ok := strings.CutPrefix(s, "s")
	v, err := strconv.Atoi(n)
	return ok && err == nil && v >= 1 && strconv.Itoa(v) == n
}

// Base names the configuration a schedule runs on.
type Base uint8

const (
	// BaseQuiet is cluster.Quiet with the schedule's voters and observers: no noise but
	// latency, so every fault is the schedule's.
	BaseQuiet Base = iota + 1
	// BaseSwarm is cluster.Swarm for the seed (network loss, disk faults, skew...) with its
	// nemesis replaced by the schedule: the form zabsim shrink works in.
	BaseSwarm
)

// Schedule is a whole failover run: the cluster it runs on and the faults, in time order.
// At FaultsUntil the fault phase ends as the nemesis's does (heal all, restart all) and
// the cluster's liveness phase follows.
type Schedule struct {
	Seed      uint64
	Base      Base
	Voters    int // BaseQuiet only (Swarm draws its own)
	Observers int // BaseQuiet only
	// FaultsUntil is the fault phase; every step is before it.
	FaultsUntil time.Duration
	// Bugs are zab.Bugs switch names turned on in every server (empty: the fixed core).
	Bugs  []string
	Steps []Step
}

// stepsMax bounds a schedule (a parsed file or decoded fuzz input).
const stepsMax = 10_000

// String renders the schedule in its file form, one directive or step a line; Parse reads
// it back.
func (s Schedule) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "seed %d\n", s.Seed)
	switch s.Base {
	case BaseSwarm:
		b.WriteString("cluster swarm\n")
	default:
		fmt.Fprintf(&b, "cluster quiet voters=%d observers=%d\n", s.Voters, s.Observers)
	}
	fmt.Fprintf(&b, "faults-until %v\n", s.FaultsUntil)
	if len(s.Bugs) > 0 {
		fmt.Fprintf(&b, "bugs %s\n", strings.Join(s.Bugs, ","))
	}
	for _, st := range s.Steps {
		b.WriteString(st.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// Parse reads a schedule in the form String writes. Blank lines and lines starting with #
// are comments. Errors name the line.
func Parse(text string) (Schedule, error) {
	var s Schedule
	seen := map[string]bool{}
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		word, rest, _ := strings.Cut(line, " ")
		if word != "at" {
			if seen[word] {
				return Schedule{}, fmt.Errorf("schedule line %d: %q given twice", i+1, word)
			}
			seen[word] = true
		}
		if err := s.parseLine(word, strings.TrimSpace(rest)); err != nil {
			return Schedule{}, fmt.Errorf("schedule line %d %q: %w", i+1, line, err)
		}
		if len(s.Steps) > stepsMax {
			return Schedule{}, fmt.Errorf("schedule line %d: more than %d steps", i+1, stepsMax)
		}
	}
	for _, need := range []string{"seed", "cluster", "faults-until"} {
		if !seen[need] {
			return Schedule{}, fmt.Errorf("schedule has no %q line", need)
		}
	}
	return s, s.validate()
}

func (s *Schedule) parseLine(word, rest string) error {
	var err error
	switch word {
	case "seed":
		s.Seed, err = strconv.ParseUint(rest, 10, 64)
	case "cluster":
		s.Base, s.Voters, s.Observers, err = parseCluster(rest)
	case "faults-until":
		s.FaultsUntil, err = time.ParseDuration(rest)
	case "bugs":
		s.Bugs = strings.Split(rest, ",")
	case "at":
		when, fault, _ := strings.Cut(rest, " ")
		var st Step
		if st.At, err = time.ParseDuration(when); err != nil {
			return err
		}
		at := st.At
		if st, err = ParseStepText(fault); err != nil {
			return err
		}
		st.At = at
		s.Steps = append(s.Steps, st)
	default:
		err = errors.New("unknown directive (want seed, cluster, faults-until, bugs or at)")
	}
	return err
}

func parseCluster(text string) (Base, int, int, error) {
	fields := strings.Fields(text)
	if len(fields) == 1 && fields[0] == "swarm" {
		return BaseSwarm, 0, 0, nil
	}
	var voters, observers int
	_, err := fmt.Sscanf(text, "quiet voters=%d observers=%d", &voters, &observers)
	if err != nil || len(fields) != 3 {
		return 0, 0, 0, fmt.Errorf("want \"swarm\" or \"quiet voters=N observers=M\"")
	}
	return BaseQuiet, voters, observers, nil
}

// serversMax bounds a quiet schedule's ensemble.
const serversMax = 9

// validate checks what the text form alone can check; Options checks the server names
// against the ensemble.
func (s Schedule) validate() error {
	switch {
	case s.Base != BaseQuiet && s.Base != BaseSwarm:
		return fmt.Errorf("schedule: no cluster base")
	case s.Base == BaseQuiet && (s.Voters < 1 || s.Observers < 0 || s.Voters+s.Observers > serversMax):
		return fmt.Errorf("schedule: %d voters and %d observers (1..%d servers)", s.Voters, s.Observers, serversMax)
	case s.FaultsUntil <= 0:
		return fmt.Errorf("schedule: faults-until %v is not positive", s.FaultsUntil)
	case len(s.Steps) > stepsMax:
		return fmt.Errorf("schedule: %d steps, at most %d", len(s.Steps), stepsMax)
	}
	if _, err := zabBugs(s.Bugs); err != nil {
		return err
	}
	for i, st := range s.Steps {
		if st.At < 0 || st.At >= s.FaultsUntil {
			return fmt.Errorf("schedule: step %d (%v) is outside the fault phase [0, %v)", i+1, st, s.FaultsUntil)
		}
		if i > 0 && st.At < s.Steps[i-1].At {
			return fmt.Errorf("schedule: step %d (%v) is before the step above it", i+1, st)
		}
	}
	return nil
}

// zabBugs turns switch names into zab.Bugs. The names are zab.Bugs' field names (what
// Bugs.Names prints), found by reflection so a new switch needs no change here.
func zabBugs(names []string) (zab.Bugs, error) {
	var b zab.Bugs
	v := reflect.ValueOf(&b).Elem()
	for _, name := range names {
		f, ok := v.Type().FieldByName(name)
		if !ok || !f.IsExported() || f.Type.Kind() != reflect.Bool {
			return b, fmt.Errorf("schedule: no zab bug switch %q", name)
		}
		v.FieldByIndex(f.Index).SetBool(true)
	}
	return b, nil
}
