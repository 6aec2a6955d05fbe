package node

import "fmt"

// assertf panics when an invariant of the node is broken, with the node's state: carrying on
// would turn a bug into a wrong answer to a client.
func (n *Node) assertf(ok bool, format string, args ...any) {
	if !ok {
		panic(fmt.Sprintf("node: invariant violated: "+format+"\nnode state: %s", append(args, n.describe())...))
	}
}

func (n *Node) describe() string {
	return fmt.Sprintf("id=%d now=%d role=%v phase=%v epoch=%d leader=%d serving=%v leading=%v applied=%v proposed=%v conns=%d sessions=%d tracked=%d peer{lastLogged=%v committed=%v}",
		n.cfg.ID, n.now, n.peer.Role(), n.peer.Phase(), n.serve.epoch, n.serve.leader, n.serve.serving, n.serve.leading,
		n.lastApplied, n.lastProposed, len(n.conns), len(n.sessions), len(n.tracker), n.peer.LastLogged(), n.peer.Committed())
}
