package checker

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"sort"
	"sync"

	"github.com/anishathalye/porcupine"
	"github.com/zabkit/zabkit/zab/tree"
	"github.com/zabkit/zabkit/zab/wire"
)

// ZooKeeper writes are linearizable (zab-bugs.md §3 item 1), and a read issued after a
// sync of the same session reflects everything committed before the sync (item 4), so it
// counts as a linearizable read. Porcupine checks them against a znode model; plain reads
// are not linearizable and are checked per zxid instead (reads.go).
//
// Following shared/anchors.md §3.4-3.5 the model is partitioned so the search stays small:
// each path is its own partition unless a multi (or a session's end, which deletes all its
// ephemerals) ties several paths together, and the state of a partition is just those
// paths' (exists, data, version, owner). Children lists and parent existence are outside
// the model: getChildren would tie a parent to every child, so it is left to the replayed
// reads. Zxids are kept out of the state (they would make the history one partition); the
// zxid order of writes is checked directly by CheckWriteZxidOrder. Deletions no client asked
// for, the leader's reaping of empty containers and expired TTL nodes, enter from the
// committed order (reaps).

// linPartition is one independently checked part of the history.
type linPartition struct {
	paths []string
	ops   []porcupine.Operation
}

// CheckLinearizability runs porcupine over every partition of h's writes and sync+reads.
// A partition that is not linearizable gets its visualization written to a file; one
// porcupine cannot decide in cfg.PartitionTimeout fails too ("history too hard").
func CheckLinearizability(h *History, cfg Config, r *Report) {
	parts := linPartitions(h)
	r.Partitions = len(parts)
	for _, p := range parts {
		r.LongestPartition = max(r.LongestPartition, len(p.ops))
	}
	timeout := cfg.PartitionTimeout
	if timeout == 0 {
		timeout = partitionTimeoutDefault
	}
	fresh := tree.New(cfg.Tree)
	results := make([]porcupine.CheckResult, len(parts))
	// Partitions are independent: spread them over the cores, collect in order.
	var wg sync.WaitGroup
	next := make(chan int)
	for range runtime.NumCPU() {
		wg.Go(func() {
			for i := range next {
				results[i] = porcupine.CheckOperationsTimeout(linModel(linInit(fresh, parts[i].paths)), parts[i].ops, timeout)
			}
		})
	}
	for i := range parts {
		next <- i
	}
	close(next)
	wg.Wait()
	for i, p := range parts {
		switch results[i] {
		case porcupine.Ok:
		case porcupine.Unknown:
			r.add(Violation{Check: CheckLinearizable,
				Detail: fmt.Sprintf("history too hard: porcupine did not decide partition %q (%d ops) in %v",
					p.paths, len(p.ops), timeout)})
		default:
			v := Violation{Check: CheckLinearizable,
				Detail: fmt.Sprintf("partition %q (%d ops) is not linearizable", p.paths, len(p.ops))}
			model := linModel(linInit(fresh, p.paths))
			_, info := porcupine.CheckOperationsVerbose(model, denseClients(p.ops), timeout)
			if path, err := writeVisualization(model, info, cfg.VisualizationDir); err != nil {
				v.Detail += fmt.Sprintf(" (visualization not written: %v)", err)
			} else {
				v.Detail += "; visualization: " + path
				r.Visualizations = append(r.Visualizations, path)
			}
			for _, o := range p.ops {
				if md, ok := o.Metadata.(*Op); ok {
					v.Ops = append(v.Ops, *md)
				}
			}
			r.add(v)
		}
	}
}

func writeVisualization(model porcupine.Model, info porcupine.LinearizationInfo, dir string) (string, error) {
	f, err := os.CreateTemp(dir, "zabkit-linearizability-*.html")
	if err != nil {
		return "", err
	}
	path := f.Name()
	if err := porcupine.Visualize(model, info, f); err != nil {
		f.Close()
		return path, err
	}
	return path, f.Close()
}

// denseClients renumbers a partition's clients 0..n-1 (in order of their ids): the
// visualization draws one row per id up to the largest.
func denseClients(ops []porcupine.Operation) []porcupine.Operation {
	var ids []int
	for _, o := range ops {
		ids = append(ids, o.ClientId)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	out := slices.Clone(ops)
	for i := range out {
		out[i].ClientId, _ = slices.BinarySearch(ids, out[i].ClientId)
	}
	return out
}

// linInit returns the initial state of a partition: which of its paths a fresh tree has.
func linInit(fresh *tree.Tree, paths []string) linState {
	s := linState{nodes: make([]linNode, len(paths))}
	for i, p := range paths {
		_, err := fresh.Exists(p, nil)
		s.nodes[i] = linNode{path: p, exists: err == wire.ErrOK}
	}
	return s
}

// linPartitions turns the history into porcupine operations and splits them by the paths
// they touch (union-find), each partition's operations in history order.
func linPartitions(h *History) []linPartition {
	ops := linOperations(h)
	uf := newPathSets()
	for _, o := range ops {
		paths := linPaths(o.Input.(linInput))
		for _, p := range paths[1:] {
			uf.union(paths[0], p)
		}
		if len(paths) > 0 {
			uf.find(paths[0])
		}
	}
	ops = append(ops, sessionEnds(h, ops, uf)...)
	ops = append(ops, reaps(h, uf)...)
	byRoot := map[string]*linPartition{}
	var roots []string
	for _, o := range ops {
		paths := linPaths(o.Input.(linInput))
		if len(paths) == 0 {
			continue
		}
		root := uf.find(paths[0])
		p := byRoot[root]
		if p == nil {
			p = &linPartition{}
			byRoot[root] = p
			roots = append(roots, root)
		}
		p.ops = append(p.ops, o)
	}
	members := uf.members()
	slices.Sort(roots)
	parts := make([]linPartition, 0, len(roots))
	for _, root := range roots {
		p := byRoot[root]
		p.paths = members[root]
		parts = append(parts, *p)
	}
	sort.SliceStable(parts, func(i, j int) bool { return parts[i].paths[0] < parts[j].paths[0] })
	return parts
}

func linPaths(in linInput) []string {
	if in.kind == linMulti {
		var paths []string
		for _, s := range in.subs {
			if s.kind != linNone {
				paths = append(paths, s.path)
			}
		}
		return paths
	}
	if in.kind == linNone {
		return nil
	}
	return []string{in.path}
}

// pathSets is a union-find over paths.
type pathSets struct{ parent map[string]string }

func newPathSets() *pathSets { return &pathSets{parent: map[string]string{}} }

func (u *pathSets) find(p string) string {
	root := p
	for steps := 0; ; steps++ {
		q, ok := u.parent[root]
		if !ok {
			u.parent[root] = root
			break
		}
		if q == root {
			break
		}
		if steps > len(u.parent) {
			panic("checker: cycle in path sets")
		}
		root = q
	}
	for p != root { // path compression
		q := u.parent[p]
		u.parent[p] = root
		p = q
	}
	return root
}

func (u *pathSets) union(a, b string) {
	ra, rb := u.find(a), u.find(b)
	if ra == rb {
		return
	}
	if rb < ra { // the smaller path names the set: deterministic roots
		ra, rb = rb, ra
	}
	u.parent[rb] = ra
}

// members lists each set's paths, sorted, by root.
func (u *pathSets) members() map[string][]string {
	m := map[string][]string{}
	paths := make([]string, 0, len(u.parent))
	for p := range u.parent {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	for _, p := range paths {
		root := u.find(p)
		m[root] = append(m[root], p)
	}
	return m
}
