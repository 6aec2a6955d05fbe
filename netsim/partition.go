package netsim

// Partition splits the endpoints into groups that cannot reach each other, in both
// directions. Endpoints in no group keep every link they had. It replaces any earlier
// partition or cut.
func (n *Network) Partition(groups ...[]Endpoint) {
	n.Heal()
	group := make([]int, len(n.names))
	for i := range group {
		group[i] = -1
	}
	for g, members := range groups {
		for _, e := range members {
			group[e] = g
		}
	}
	for a := range n.cut {
		for b := range n.cut[a] {
			if group[a] >= 0 && group[b] >= 0 && group[a] != group[b] {
				n.cut[a][b] = true
			}
		}
	}
}

// Cut drops every message from -> to while letting to -> from through: a one-way
// partition (A hears B, B does not hear A), the failure that TigerBeetle's liveness mode
// was built to find.
func (n *Network) Cut(from, to Endpoint) { n.cut[from][to] = true }

// Isolate cuts e off from every other endpoint in both directions.
func (n *Network) Isolate(e Endpoint) {
	for o := range n.cut {
		if Endpoint(o) != e {
			n.cut[e][o] = true
			n.cut[o][e] = true
		}
	}
}

// HealLink restores both directions between a and b.
func (n *Network) HealLink(a, b Endpoint) {
	n.cut[a][b] = false
	n.cut[b][a] = false
}

// Heal removes every partition and cut.
func (n *Network) Heal() {
	for a := range n.cut {
		clear(n.cut[a])
	}
}

// Connected reports whether messages from -> to currently get through the partitions.
func (n *Network) Connected(from, to Endpoint) bool { return !n.cut[from][to] }
