package conformance

import (
	"fmt"
	"strings"
	"sync"
)

// Divergence is the first step at which two targets' canonical transcripts differ.
type Divergence struct {
	Step   int // index in the sequence; -1 for the set-up, len(steps) for the tear-down
	Report string
}

func (d *Divergence) Error() string { return d.Report }

// Result is one differential run: both transcripts and their first divergence (nil when the
// targets agree).
type Result struct {
	A, B       *Transcript
	Divergence *Divergence
}

// Differential runs steps against a and b concurrently (each under prefix on its own server)
// and compares their canonical transcripts.
func Differential(a, b Target, prefix string, steps []Step) Result {
	var r Result
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); r.A = Run(a, prefix, steps) }()
	go func() { defer wg.Done(); r.B = Run(b, prefix, steps) }()
	wg.Wait()
	r.Divergence = Compare(r.A, r.B, steps)
	return r
}

// Compare returns the first divergence between two transcripts of steps, printed side by
// side with the steps that led to it, or nil.
func Compare(ta, tb *Transcript, steps []Step) *Divergence {
	la, lb := CanonicalLines(ta, len(steps)), CanonicalLines(tb, len(steps))
	for i := range la {
		if equalLines(la[i], lb[i]) {
			continue
		}
		var r strings.Builder
		fmt.Fprintf(&r, "targets diverge at %s\n", stepLabel(i-1, len(steps)))
		// No run-specific text (such as the prefix) in the report: rapid only accepts a
		// shrunk sequence whose failure message is identical to the original's.
		fmt.Fprintf(&r, "A = %s (%s), B = %s (%s), ~ = the run's prefix node\n", ta.Target.Name, ta.Target.Addr, tb.Target.Name, tb.Target.Addr)
		r.WriteString("history (both agree):\n")
		for j := range i {
			for _, l := range la[j] {
				fmt.Fprintf(&r, "  = %s\n", l)
			}
		}
		fmt.Fprintf(&r, "diverging %s:\n", stepLabel(i-1, len(steps)))
		n := max(len(la[i]), len(lb[i]))
		for k := range n {
			x, y := "(nothing)", "(nothing)"
			if k < len(la[i]) {
				x = la[i][k]
			}
			if k < len(lb[i]) {
				y = lb[i][k]
			}
			mark := " "
			if x != y {
				mark = "≠"
			}
			fmt.Fprintf(&r, "  %s A: %s\n    B: %s\n", mark, x, y)
		}
		return &Divergence{Step: i - 1, Report: r.String()}
	}
	return nil
}

func stepLabel(step, n int) string {
	switch step {
	case -1:
		return "set-up"
	case n:
		return "tear-down"
	}
	return fmt.Sprintf("step %d", step)
}

func equalLines(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
