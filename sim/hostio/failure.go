package hostio

import (
	"fmt"
	"time"
)

// Failure is why a simulated run failed: each cluster classifies failures with its own
// kinds (sim/cluster's and sim/zk's FailKind), and both report them the same way.
type Failure[K fmt.Stringer] struct {
	Kind   K
	At     time.Duration // virtual time
	Detail string
}

func (f *Failure[K]) String() string {
	return fmt.Sprintf("%v failure at %v: %s", f.Kind, f.At, f.Detail)
}
