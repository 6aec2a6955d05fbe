package tree

import (
	"slices"
	"sort"
	"strings"
)

// childList holds a node's children in name order, in chunks of at most chunkMax, so that
// inserting into or deleting from a huge directory (a queue of a million sequential nodes)
// moves at most one chunk instead of the whole list. Most directories have a single chunk.
// It costs the same 24 bytes in a znode as a plain slice; the count is the sum of the
// chunk lengths, so len walks the chunks (one per 512 children).
type childList struct {
	chunks [][]*znode // none empty; each sorted, and all of one chunk sort before the next
}

const chunkMax = 512

func (l *childList) len() int {
	total := 0
	for _, c := range l.chunks {
		total += len(c)
	}
	return total
}

// find returns the child called name, or nil and where it would be inserted.
func (l *childList) find(name string) (n *znode, chunk, index int) {
	if len(l.chunks) == 0 {
		return nil, 0, 0
	}
	chunk = sort.Search(len(l.chunks), func(k int) bool {
		c := l.chunks[k]
		return c[len(c)-1].name >= name
	})
	if chunk == len(l.chunks) {
		last := len(l.chunks) - 1
		return nil, last, len(l.chunks[last])
	}
	index, found := slices.BinarySearchFunc(l.chunks[chunk], name, compareName)
	if found {
		return l.chunks[chunk][index], chunk, index
	}
	return nil, chunk, index
}

// insert adds n at the position find reported for its name.
func (l *childList) insert(chunk, index int, n *znode) {
	if len(l.chunks) == 0 {
		l.chunks = [][]*znode{{n}}
		return
	}
	c := l.chunks[chunk]
	if len(c) == chunkMax && chunk == len(l.chunks)-1 && index == len(c) {
		// Appending past a full last chunk (sequential names) starts a new chunk instead
		// of splitting, so append-only directories stay densely packed.
		l.chunks = append(l.chunks, []*znode{n})
		return
	}
	c = slices.Insert(c, index, n)
	if len(c) <= chunkMax {
		l.chunks[chunk] = c
		return
	}
	half := len(c) / 2
	second := slices.Clone(c[half:])
	clear(c[half:])
	l.chunks[chunk] = c[:half]
	l.chunks = slices.Insert(l.chunks, chunk+1, second)
}

// remove deletes the child at (chunk, index), dropping an emptied chunk and merging a
// small one into its neighbour so that random deletes cannot leave many tiny chunks.
func (l *childList) remove(chunk, index int) {
	c := slices.Delete(l.chunks[chunk], index, index+1)
	switch {
	case len(c) == 0:
		l.chunks = slices.Delete(l.chunks, chunk, chunk+1)
		if len(l.chunks) == 0 {
			l.chunks = nil
		}
		return
	case len(c) < chunkMax/4 && chunk+1 < len(l.chunks) && len(c)+len(l.chunks[chunk+1]) <= chunkMax/2:
		l.chunks[chunk] = append(c, l.chunks[chunk+1]...)
		l.chunks = slices.Delete(l.chunks, chunk+1, chunk+2)
		return
	}
	l.chunks[chunk] = c
}

// appendSorted adds n after every existing child (snapshot restore reads children in
// order); the caller has checked the order.
func (l *childList) appendSorted(n *znode) {
	if k := len(l.chunks); k > 0 && len(l.chunks[k-1]) < chunkMax {
		l.chunks[k-1] = append(l.chunks[k-1], n)
		return
	}
	l.chunks = append(l.chunks, []*znode{n})
}

func (l *childList) last() *znode {
	if len(l.chunks) == 0 {
		return nil
	}
	c := l.chunks[len(l.chunks)-1]
	return c[len(c)-1]
}

// appendTo appends the children in name order.
func (l *childList) appendTo(dst []*znode) []*znode {
	for _, c := range l.chunks {
		dst = append(dst, c...)
	}
	return dst
}

// appendReversed appends the children in reverse name order (for depth-first stacks).
func (l *childList) appendReversed(dst []*znode) []*znode {
	for k := len(l.chunks) - 1; k >= 0; k-- {
		c := l.chunks[k]
		for i := len(c) - 1; i >= 0; i-- {
			dst = append(dst, c[i])
		}
	}
	return dst
}

func (l *childList) names() []string {
	names := make([]string, 0, l.len())
	for _, c := range l.chunks {
		for _, n := range c {
			names = append(names, n.name)
		}
	}
	return names
}

func compareName(c *znode, name string) int { return strings.Compare(c.name, name) }
