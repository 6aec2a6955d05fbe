package sim_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/zabkit/zabkit/netsim"
	"github.com/zabkit/zabkit/sim"
	"github.com/zabkit/zabkit/sim/vdisk"
)

// gossip is the test workload of the simulator: a push-pull rumor protocol. It exists
// only in tests, to exercise the world with real message passing, timers, disks, crashes
// and partitions; it is not product code.
//
// Every tick a node may start a rumor, then sends the set of rumors it knows to a few
// random peers; a node that receives rumors it lacks adds them and answers with those
// the sender lacks. Each new rumor is appended to the node's disk; what was synced
// survives a crash.
type gossip struct {
	name       string
	peers      []string
	rng        *rand.Rand
	known      []string // sorted
	nextTickMs int64
	started    int
	unsynced   int
	// mapOrder makes the node pick peers by ranging over a map: the kind of bug the
	// determinism check exists to catch.
	mapOrder bool
	peerSet  map[string]bool
	// payloadMapOrder makes the node list the rumors it pushes by ranging over a map: a
	// bug that changes only what the messages hold, never who gets one or how big it is.
	payloadMapOrder bool
}

type gossipIn struct {
	tick      bool
	from      string
	msg       gossipMsg
	persisted int
}

// gossipMsg is a push (the sender's whole rumor set) or the pull answer to one.
type gossipMsg struct {
	rumors []string
	answer bool
}

// TraceDigest lets the trace hash what a message holds (sim.TraceDigester).
func (m gossipMsg) TraceDigest() uint64 {
	h := sim.DigestString("gossip")
	if m.answer {
		h = sim.DigestMix(h, 1)
	}
	for _, r := range m.rumors {
		h = sim.DigestMix(h, sim.DigestString(r))
	}
	return h
}

// opaqueGossipMsg is a gossipMsg whose content the trace cannot see (no TraceDigest).
type opaqueGossipMsg gossipMsg

type gossipOut struct {
	to      string
	msg     gossipMsg
	persist []string
}

func (g *gossip) NextDeadline() (int64, bool) { return g.nextTickMs, true }

func (g *gossip) Handle(nowMs int64, in gossipIn) []gossipOut {
	var outs []gossipOut
	switch {
	case in.tick:
		if nowMs < g.nextTickMs {
			return nil
		}
		g.nextTickMs = nowMs + 5 + g.rng.Int64N(20)
		if g.started < 25 && g.rng.IntN(4) == 0 {
			g.started++
			r := fmt.Sprintf("%s.%d", g.name, g.started)
			g.learn([]string{r})
			outs = append(outs, gossipOut{persist: []string{r}})
		}
		for _, p := range g.pickPeers(2) {
			outs = append(outs, gossipOut{to: p, msg: gossipMsg{rumors: g.pushed()}})
		}
	case in.persisted > 0:
		g.unsynced -= in.persisted
	default:
		fresh := g.learn(in.msg.rumors)
		if len(fresh) > 0 {
			outs = append(outs, gossipOut{persist: fresh})
		}
		if in.msg.answer {
			break
		}
		if missing := difference(g.known, in.msg.rumors); len(missing) > 0 {
			outs = append(outs, gossipOut{to: in.from, msg: gossipMsg{rumors: missing, answer: true}})
		}
	}
	return outs
}

func (g *gossip) pickPeers(k int) []string {
	if g.mapOrder {
		var picked []string
		for p := range g.peerSet { // deliberately map-order dependent
			if len(picked) == k {
				break
			}
			picked = append(picked, p)
		}
		return picked
	}
	picked := make([]string, 0, k)
	for range k {
		picked = append(picked, g.peers[g.rng.IntN(len(g.peers))])
	}
	return picked
}

// pushed is the rumor list of a push: every known rumor, sorted unless payloadMapOrder.
func (g *gossip) pushed() []string {
	if !g.payloadMapOrder {
		return slices.Clone(g.known)
	}
	set := map[string]bool{}
	for _, r := range g.known {
		set[r] = true
	}
	out := make([]string, 0, len(set))
	for r := range set { // deliberately map-order dependent
		out = append(out, r)
	}
	return out
}

// learn merges rumors into known and returns the ones that were new.
func (g *gossip) learn(rumors []string) []string {
	var fresh []string
	for _, r := range rumors {
		i, found := slices.BinarySearch(g.known, r)
		if !found {
			g.known = slices.Insert(g.known, i, r)
			fresh = append(fresh, r)
		}
	}
	g.unsynced += len(fresh)
	return fresh
}

// difference returns the elements of sorted a that are not in b.
func difference(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

func sizeOf(rumors []string) int {
	n := 4
	for _, r := range rumors {
		n += 4 + len(r)
	}
	return n
}

// gossipWorld builds a world of n gossip hosts with a busy, faulty network.
type gossipWorld struct {
	world *sim.World
	hosts []*sim.Host[gossipIn, gossipOut]
	disks []*vdisk.Disk // when config.disks, in host order
}

type gossipConfig struct {
	seed     uint64
	hosts    int
	record   bool
	mapOrder bool
	faults   bool
	disks    bool
	// payloadMapOrder: see gossip.payloadMapOrder. opaque sends the messages as
	// opaqueGossipMsg, whose content the trace does not digest.
	payloadMapOrder bool
	opaque          bool
	// nemesis, when set, adjusts the nemesis options of a faulty world.
	nemesis func(o *sim.NemesisOptions)
}

func newGossipWorld(c gossipConfig) *gossipWorld {
	rng := sim.Stream(c.seed, "config")
	link := netsim.Link{
		Latency: netsim.Latency{
			Min:             time.Duration(rng.IntN(500)) * time.Microsecond,
			Typical:         time.Millisecond + time.Duration(rng.IntN(2000))*time.Microsecond,
			Tail:            20 * time.Millisecond,
			TailProbability: 0.02,
		},
	}
	if c.faults {
		link.LossProbability = float64(rng.IntN(10)) / 100
		link.DuplicateProbability = float64(rng.IntN(10)) / 100
	}
	w := sim.NewWorld(sim.Options{Seed: c.seed, Link: link, Record: c.record})
	gw := &gossipWorld{world: w}
	var names []string
	for i := range c.hosts {
		names = append(names, fmt.Sprintf("n%d", i+1))
	}
	for _, name := range names {
		var peers []string
		peerSet := map[string]bool{}
		for _, p := range names {
			if p != name {
				peers = append(peers, p)
				peerSet[p] = true
			}
		}
		program := sim.Program[gossipIn, gossipOut]{
			Boot: func(h *sim.Host[gossipIn, gossipOut]) sim.Machine[gossipIn, gossipOut] {
				g := &gossip{name: name, peers: peers, rng: h.Rand(), mapOrder: c.mapOrder, peerSet: peerSet, nextTickMs: h.NowMs(), payloadMapOrder: c.payloadMapOrder}
				if d := h.Disk(); d != nil {
					if data, err := d.ReadFile("rumors"); err == nil {
						g.learn(splitLines(data))
						g.unsynced = 0
					}
				}
				return g
			},
			Message: func(from string, payload any) gossipIn {
				if m, ok := payload.(opaqueGossipMsg); ok {
					return gossipIn{from: from, msg: gossipMsg(m)}
				}
				return gossipIn{from: from, msg: payload.(gossipMsg)}
			},
			Tick: func() gossipIn { return gossipIn{tick: true} },
			Execute: func(h *sim.Host[gossipIn, gossipOut], out gossipOut) {
				if out.persist != nil {
					persist(h, out.persist)
					return
				}
				if c.opaque {
					h.Send(out.to, opaqueGossipMsg(out.msg), sizeOf(out.msg.rumors))
					return
				}
				h.Send(out.to, out.msg, sizeOf(out.msg.rumors))
			},
		}
		opts := sim.HostOptions{}
		if c.disks {
			d := sim.NewDisk(w, name, vdisk.Faults{TearProbability: 0.5, KeepUnsyncedProbability: 0.3})
			gw.disks = append(gw.disks, d)
			opts.Disk = d
		}
		gw.hosts = append(gw.hosts, sim.AddHost(w, name, program, opts))
	}
	if c.faults {
		o := sim.NemesisOptions{
			Hosts: names, Interval: 50 * time.Millisecond, DownMax: c.hosts / 2, Until: 800 * time.Millisecond,
			CrashWeight: 2, RestartWeight: 2, PartitionWeight: 1, CutWeight: 1, IsolateWeight: 1, HealWeight: 2,
		}
		if c.nemesis != nil {
			c.nemesis(&o)
		}
		sim.StartNemesis(w, o)
	}
	return gw
}

// persist appends rumors to the host's disk and reports them durable after a disk delay.
func persist(h *sim.Host[gossipIn, gossipOut], rumors []string) {
	d := h.Disk()
	if d == nil {
		h.Input(gossipIn{persisted: len(rumors)})
		return
	}
	f, err := d.OpenAppend("rumors")
	if err != nil {
		if f, err = d.Create("rumors"); err != nil {
			panic(err)
		}
		if err := d.SyncDir(); err != nil {
			panic(err)
		}
	}
	var data []byte
	for _, r := range rumors {
		data = append(data, r...)
		data = append(data, '\n')
	}
	if _, err := f.Write(data); err != nil {
		panic(err)
	}
	h.After(time.Duration(100+h.Stream("disk").IntN(900))*time.Microsecond, func() {
		if err := f.Sync(); err != nil {
			panic(err)
		}
		f.Close()
		h.Input(gossipIn{persisted: len(rumors)})
	})
}

func splitLines(data []byte) []string {
	var out []string
	start := 0
	for i, c := range data {
		if c == '\n' {
			out = append(out, string(data[start:i]))
			start = i + 1
		}
	}
	return out
}
