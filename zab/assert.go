package zab

import "fmt"

// assert panics when an invariant of the core is broken. A broken invariant means the
// peer's state can no longer be trusted; carrying on would turn a bug into data loss.
func assert(ok bool, format string, args ...any) {
	if !ok {
		panic(fmt.Sprintf("zab: invariant violated: "+format, args...))
	}
}

// assertState is assert with the peer's state appended to the message.
func (p *Peer) assertState(ok bool, format string, args ...any) {
	if !ok {
		panic(fmt.Sprintf("zab: invariant violated: "+format+"\npeer state: %s", append(args, p.describe())...))
	}
}
