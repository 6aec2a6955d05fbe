package tree

import (
	"fmt"
	"maps"
	"slices"
)

// Verify recomputes everything the tree maintains incrementally and reports the first
// disagreement: the digest, the node count, name order and validity of children, session
// ephemeral sets against node owners, the reapable set, and ACL reference counts. It walks
// the whole tree, so it is for tests and the simulator's invariant checks, not for every txn
// of a production server (compare Digest across replicas there).
func (t *Tree) Verify() error {
	digest := uint64(0)
	for _, id := range t.Sessions() {
		digest += sessionHash(id, t.sessions[id].timeoutMs)
	}
	count := 0
	dataBytes := int64(0)
	refs := make(map[uint32]int64)
	ephemerals := make(map[int64][]string)
	var reapable []string
	type frame struct {
		n    *znode
		path string
	}
	stack := []frame{{t.root, "/"}}
	for len(stack) > 0 {
		if count > t.nodeCount {
			return fmt.Errorf("tree: more than the %d counted nodes reachable", t.nodeCount)
		}
		f := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		count++
		dataBytes += nodeSizeBytes(f.path, f.n.data)
		refs[f.n.acl]++
		digest += t.nodeHash(f.path, f.n)
		switch ownerKind(f.n.owner, t.cfg.ExtendedTypesEnabled) {
		case kindEphemeral:
			if f.n.children.len() > 0 {
				return fmt.Errorf("tree: ephemeral %s has children", f.path)
			}
			ephemerals[f.n.owner] = append(ephemerals[f.n.owner], f.path)
		case kindContainer, kindTTL:
			reapable = append(reapable, f.path)
		}
		var prev *znode
		for k, chunk := range f.n.children.chunks {
			if len(chunk) == 0 || len(chunk) > chunkMax {
				return fmt.Errorf("tree: children of %s: chunk %d holds %d", f.path, k, len(chunk))
			}
		}
		for _, c := range f.n.children.appendTo(nil) {
			if prev != nil && prev.name >= c.name {
				return fmt.Errorf("tree: children of %s out of order at %q", f.path, c.name)
			}
			prev = c
			if c.name == "" || !ValidPath("/"+c.name) {
				return fmt.Errorf("tree: child of %s has invalid name %q", f.path, c.name)
			}
			stack = append(stack, frame{c, childPath(f.path, c.name)})
		}
	}
	if count != t.nodeCount {
		return fmt.Errorf("tree: %d nodes reachable, %d counted", count, t.nodeCount)
	}
	if digest != t.digest {
		return fmt.Errorf("tree: digest %#x, recomputed %#x", t.digest, digest)
	}
	if dataBytes != t.dataBytes {
		return fmt.Errorf("tree: approximate data size %d counted, %d recomputed", t.dataBytes, dataBytes)
	}
	for id, s := range t.sessions {
		want := ephemerals[id]
		slices.Sort(want)
		if got := s.sortedEphemerals(); !slices.Equal(got, want) {
			return fmt.Errorf("tree: session %#x lists ephemerals %v, nodes say %v", id, got, want)
		}
		delete(ephemerals, id)
	}
	if len(ephemerals) > 0 {
		return fmt.Errorf("tree: ephemerals of unknown sessions: %v", ephemerals)
	}
	slices.Sort(reapable)
	if got := slices.Sorted(maps.Keys(t.reapable)); !slices.Equal(got, reapable) {
		return fmt.Errorf("tree: reapable set %v, nodes say %v", got, reapable)
	}
	for slot, e := range t.acls.entries {
		if e.refs != refs[uint32(slot)] && e.key != "" {
			return fmt.Errorf("tree: ACL slot %d has %d references, %d nodes use it", slot, e.refs, refs[uint32(slot)])
		}
	}
	return nil
}
