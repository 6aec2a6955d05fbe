package sim

import (
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strings"
)

// Buggify is FoundationDB's BUGGIFY for one simulated run (flow/include/flow/Buggify.h): the
// hook that zab.Config.Buggify and node.Config.Buggify ask, at named sites, whether to take
// a legal but rare path. Each site is activated for the whole run with probability 1/4,
// and an active site fires with probability 1/4 each time it is asked, so every seed
// switches on its own subset of the sites (a swarm technique) and an active site still
// leaves the common path common. Off outside simulation: the daemon never builds one.
//
// Activation is a pure function of the stream's first draw and the site's name, decided
// and cached the first time a site is asked: it does not depend on the order in which
// sites are asked, and a site added to the code leaves every other site's activation
// alone. Firing draws from the stream, in the order the core asks (deterministic). One
// Buggify serves every node of a world.
type Buggify struct {
	key    uint64
	stream *rand.Rand
	active map[string]bool
	asked  map[string]int
	fired  map[string]int
}

// buggifyOneIn is FoundationDB's P_GENERAL_BUGGIFIED_SECTION_ACTIVATED and
// P_GENERAL_BUGGIFIED_SECTION_FIRES, both 0.25: a draw fires when it is below 2^64/4.
const buggifyOneIn = 4

// NewBuggify returns a hook drawing from stream (the world's "buggify" stream: see
// World.NewBuggify).
func NewBuggify(stream *rand.Rand) *Buggify {
	return &Buggify{key: stream.Uint64(), stream: stream,
		active: map[string]bool{}, asked: map[string]int{}, fired: map[string]int{}}
}

// Fire reports whether to take the rare path at site this time: the site is active in
// this run and this time's draw fires. It implements zab.Buggify. A nil *Buggify never
// fires, so a host may store one in a Config whether or not the run buggifies (a nil
// pointer in an interface is not a nil interface).
func (b *Buggify) Fire(site string) bool {
	if b == nil {
		return false
	}
	b.asked[site]++
	if !b.Active(site) || b.stream.Uint64() >= ^uint64(0)/buggifyOneIn {
		return false
	}
	b.fired[site]++
	return true
}

// Active reports whether site is activated in this run, deciding it if it was not yet.
func (b *Buggify) Active(site string) bool {
	on, ok := b.active[site]
	if !ok {
		h := fnv.New64a()
		h.Write([]byte(site))
		on = mix64(b.key^h.Sum64()) < ^uint64(0)/buggifyOneIn
		b.active[site] = on
	}
	return on
}

// mix64 is SplitMix64's finalizer: it spreads the bits of the key and the site's hash, so
// that activations of sites with similar names are independent.
func mix64(z uint64) uint64 {
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// Activated lists the sites decided active so far, sorted (none for a nil *Buggify).
func (b *Buggify) Activated() []string {
	if b == nil {
		return nil
	}
	var out []string
	for site, on := range b.active {
		if on {
			out = append(out, site)
		}
	}
	slices.Sort(out)
	return out
}

// SiteCount is how often a site was asked and fired in a run.
type SiteCount struct {
	Site         string
	Asked, Fired int
}

// Counts lists every site asked so far with its counts, sorted by site (none for a nil
// *Buggify).
func (b *Buggify) Counts() []SiteCount {
	if b == nil {
		return nil
	}
	out := make([]SiteCount, 0, len(b.asked))
	for site, n := range b.asked {
		out = append(out, SiteCount{Site: site, Asked: n, Fired: b.fired[site]})
	}
	slices.SortFunc(out, func(x, y SiteCount) int { return strings.Compare(x.Site, y.Site) })
	return out
}

// NewBuggify returns the world's hook, drawn from its "buggify" stream, decides at once
// which of sites (e.g. node.BuggifySites()) are active, and records them as the setting
// "buggify" ("none" when no site is active), so the settings printed with a run say which
// rare paths its seed switched on.
func (w *World) NewBuggify(sites []string) *Buggify {
	b := NewBuggify(w.Stream("buggify"))
	var on []string
	for _, s := range sites {
		if b.Active(s) {
			on = append(on, s)
		}
	}
	slices.Sort(on)
	value := "none"
	if len(on) > 0 {
		value = strings.Join(on, " ")
	}
	w.Set("buggify", value)
	return b
}
