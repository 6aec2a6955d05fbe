package tree

import "slices"

// Containers and TTL nodes are removed by the leader, not by a timer inside the tree
// (ContainerManager): it asks Reapable which nodes qualify at its wall-clock time and
// proposes a deleteContainer for each, which Prepare re-checks against outstanding changes.

func (t *Tree) trackReapable(path string, owner int64) {
	if k := ownerKind(owner, t.cfg.ExtendedTypesEnabled); k == kindContainer || k == kindTTL {
		if t.reapable == nil {
			t.reapable = make(map[string]struct{})
		}
		t.reapable[path] = struct{}{}
	}
}

func (t *Tree) untrackReapable(path string, owner int64) {
	if k := ownerKind(owner, t.cfg.ExtendedTypesEnabled); k == kindContainer || k == kindTTL {
		delete(t.reapable, path)
	}
}

// Reapable lists, in path order and at most limit of them, the nodes the leader should
// delete at nowMs (ContainerManager.getCandidates): childless containers that once had a
// child (or, if neverUsedMs > 0, were created more than neverUsedMs ago and never had one),
// and childless TTL nodes not modified for longer than their TTL.
func (t *Tree) Reapable(nowMs, neverUsedMs int64, limit int) []string {
	paths := make([]string, 0, len(t.reapable))
	for path := range t.reapable {
		paths = append(paths, path)
	}
	slices.Sort(paths)
	var out []string
	for _, path := range paths {
		if len(out) >= limit {
			break
		}
		n := t.mustLookup(path)
		if n.children.len() > 0 {
			continue
		}
		elapsedMs := nowMs - n.mtime
		switch ownerKind(n.owner, t.cfg.ExtendedTypesEnabled) {
		case kindContainer:
			if n.creates > 0 || (neverUsedMs > 0 && elapsedMs > neverUsedMs) {
				out = append(out, path)
			}
		case kindTTL:
			if ttl := ownerTTLMs(n.owner); ttl != 0 && elapsedMs > ttl {
				out = append(out, path)
			}
		}
	}
	return out
}
