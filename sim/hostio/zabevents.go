package hostio

import (
	"fmt"
	"runtime/debug"
	"strings"
	"time"

	"github.com/zabkit/zabkit/checker"
)

// recentEventsMax bounds the protocol events a failure report quotes.
const recentEventsMax = 20

// ZabEvents feeds a run's protocol events to a checker.ZabChecker and keeps the last
// recentEventsMax of them, so that a failure report (a violation or a panic) quotes what
// led to it. Both simulated clusters feed their servers' events through it.
type ZabEvents struct {
	check  *checker.ZabChecker
	recent []string
}

// NewZabEvents starts a run's checker with no events seen.
func NewZabEvents() *ZabEvents { return &ZabEvents{check: checker.NewZabChecker()} }

// Observe stamps e with the virtual time now and feeds it to the checker. It returns the
// report of the first violation e caused, quoting the last events, or "" when it caused none.
func (z *ZabEvents) Observe(e checker.ZabEvent, now time.Duration) string {
	e.Time = int64(now / time.Millisecond)
	z.recent = append(z.recent, e.String())
	if len(z.recent) > recentEventsMax {
		z.recent = z.recent[1:]
	}
	before := len(z.check.Violations())
	z.check.Observe(e)
	if v := z.check.Violations(); len(v) > before {
		return fmt.Sprintf("%v\nlast protocol events:\n  %s", v[before], z.recentText())
	}
	return ""
}

// Finish runs the checker's whole-run checks; it returns their first violation's report,
// or "" when every check holds.
func (z *ZabEvents) Finish() string {
	if v := z.check.Finish(); len(v) > 0 {
		return fmt.Sprint(v[0])
	}
	return ""
}

// PanicReport is the detail of a run that panicked with p: the panic, the last events and
// the stack of the goroutine that recovered it.
func (z *ZabEvents) PanicReport(p any) string {
	return fmt.Sprintf("%v\nlast protocol events:\n  %s\n%s", p, z.recentText(), debug.Stack())
}

func (z *ZabEvents) recentText() string { return strings.Join(z.recent, "\n  ") }
