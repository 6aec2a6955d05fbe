package sim

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/zabkit/zabkit/netsim"
)

// NemesisOptions configures the random fault injector. Each fault kind has a weight; a
// zero weight turns that kind off.
type NemesisOptions struct {
	// Hosts the nemesis may crash and partition.
	Hosts []string
	// Interval is the mean time between faults (exponentially distributed).
	Interval time.Duration
	// DownMax is the most hosts it keeps crashed at once.
	DownMax int
	// Until is when the fault phase ends: the nemesis heals every partition, restarts every
	// crashed host and stops, so a liveness phase can follow.
	Until time.Duration

	CrashWeight, RestartWeight, PartitionWeight, CutWeight, IsolateWeight, HealWeight int
	// CorruptWeight is the weight of a bit flip in a random synced block of a random host's
	// disk (World.Corrupt), up or down: the latent sector error or misdirected write that
	// a checksummed log must detect on its next read.
	CorruptWeight int
}

// Nemesis injects random crashes, restarts and partitions from its own random stream.
type Nemesis struct {
	world  *World
	opts   NemesisOptions
	rng    *rand.Rand
	faults int
}

// StartNemesis starts injecting faults into w and records its options as settings.
func StartNemesis(w *World, o NemesisOptions) *Nemesis {
	if o.Interval <= 0 || len(o.Hosts) == 0 {
		panic(fmt.Sprintf("sim: nemesis needs hosts and a positive interval, got %+v", o))
	}
	n := &Nemesis{world: w, opts: o, rng: w.Stream("nemesis")}
	w.Set("nemesis.interval", o.Interval)
	w.Set("nemesis.until", o.Until)
	w.Set("nemesis.downMax", o.DownMax)
	w.Set("nemesis.weights", fmt.Sprintf("crash=%d restart=%d partition=%d cut=%d isolate=%d heal=%d corrupt=%d",
		o.CrashWeight, o.RestartWeight, o.PartitionWeight, o.CutWeight, o.IsolateWeight, o.HealWeight, o.CorruptWeight))
	n.next()
	return n
}

// Faults is the number of faults injected so far.
func (n *Nemesis) Faults() int { return n.faults }

func (n *Nemesis) next() {
	d := time.Duration(n.rng.ExpFloat64() * float64(n.opts.Interval))
	if n.world.Now()+d >= n.opts.Until {
		n.world.Clock.At(max(n.opts.Until, n.world.Now()), n.end)
		return
	}
	n.world.Clock.AfterFunc(d, func() {
		n.inject()
		n.next()
	})
}

// inject draws one fault and carries it out. A draw that cannot act (a crash with DownMax
// hosts down, a restart with none down, a cut from a host to itself) leaves a KindNemesis
// line, so the trace shows every time the nemesis woke.
func (n *Nemesis) inject() {
	o := n.opts
	weights := []int{o.CrashWeight, o.RestartWeight, o.PartitionWeight, o.CutWeight, o.IsolateWeight, o.HealWeight, o.CorruptWeight}
	total := 0
	for _, wt := range weights {
		total += wt
	}
	w := n.world
	if total == 0 {
		n.idle("idle, every weight is zero")
		return
	}
	pick := n.rng.IntN(total)
	kind := 0
	for pick >= weights[kind] {
		pick -= weights[kind]
		kind++
	}
	up, down := n.partitionByState()
	switch kind {
	case 0:
		if len(down) >= o.DownMax || len(up) == 0 {
			n.idle(fmt.Sprintf("no crash, %d of %d hosts down (DownMax %d)", len(down), len(o.Hosts), o.DownMax))
			return
		}
		victim := up[n.rng.IntN(len(up))]
		w.Fault("crash " + victim)
		w.Crash(victim)
		n.faults++
	case 1:
		if len(down) == 0 {
			n.idle("no restart, no host is down")
			return
		}
		back := down[n.rng.IntN(len(down))]
		w.Fault("restart " + back)
		w.Restart(back)
		n.faults++
	case 2:
		if len(o.Hosts) < 2 {
			n.idle("no partition of a single host")
			return
		}
		hosts := slices.Clone(o.Hosts)
		n.rng.Shuffle(len(hosts), func(i, j int) { hosts[i], hosts[j] = hosts[j], hosts[i] })
		cut := 1 + n.rng.IntN(len(hosts)-1)
		a, b := hosts[:cut], hosts[cut:]
		w.Fault(fmt.Sprintf("partition {%s} {%s}", strings.Join(a, ","), strings.Join(b, ",")))
		w.Net.Partition(n.endpoints(a), n.endpoints(b))
		n.faults++
	case 3:
		if len(o.Hosts) < 2 {
			n.idle("no cut of a single host")
			return
		}
		from := o.Hosts[n.rng.IntN(len(o.Hosts))]
		to := o.Hosts[n.rng.IntN(len(o.Hosts))]
		if from == to {
			n.idle(fmt.Sprintf("no cut, drew %s->%s", from, to))
			return
		}
		w.Fault(fmt.Sprintf("cut %s->%s", from, to))
		w.Net.Cut(w.Endpoint(from), w.Endpoint(to))
		n.faults++
	case 4:
		victim := o.Hosts[n.rng.IntN(len(o.Hosts))]
		w.Fault("isolate " + victim)
		w.Net.Isolate(w.Endpoint(victim))
		n.faults++
	case 5:
		w.Fault("heal")
		w.Net.Heal()
		n.faults++
	case 6:
		victim := o.Hosts[n.rng.IntN(len(o.Hosts))]
		if _, err := w.Corrupt(victim); err != nil {
			n.idle("no bitflip: " + err.Error())
			return
		}
		n.faults++
	}
}

// idle records a wake-up that injected nothing (see KindNemesis).
func (n *Nemesis) idle(text string) {
	n.world.Trace.Add(Event{At: n.world.Now(), Kind: KindNemesis, Text: text})
}

// end closes the fault phase: heal everything and restart every crashed host.
func (n *Nemesis) end() {
	w := n.world
	w.Fault("fault phase over: heal all, restart all")
	w.Net.Heal()
	_, down := n.partitionByState()
	for _, name := range down {
		w.Restart(name)
	}
}

func (n *Nemesis) partitionByState() (up, down []string) {
	for _, name := range n.opts.Hosts {
		if n.world.IsUp(name) {
			up = append(up, name)
		} else {
			down = append(down, name)
		}
	}
	return up, down
}

func (n *Nemesis) endpoints(names []string) []netsim.Endpoint {
	eps := make([]netsim.Endpoint, len(names))
	for i, name := range names {
		eps[i] = n.world.Endpoint(name)
	}
	return eps
}
