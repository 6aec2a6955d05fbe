package conformance

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/zabkit/zabkit/zab/wire"
)

// Coverage counts what transcripts exercised, so a run can show which rows of the
// conformance table (README.md) it covered: each op code with each error code it drew, each
// create mode with its outcome, each watch event type, each connection outcome.
type Coverage struct {
	mu     sync.Mutex
	counts map[string]int
}

// Add tallies one transcript.
func (c *Coverage) Add(t *Transcript) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.counts == nil {
		c.counts = map[string]int{}
	}
	for _, o := range t.Observations {
		if o.Step < 0 {
			continue // the set-up is the same every run
		}
		if o.Exchange == nil && o.Handshake == nil && o.Note != "" {
			c.counts[o.Note]++
			continue
		}
		if h := o.Handshake; h != nil {
			outcome := h.Outcome.String()
			if h.Outcome == Replied && h.Response.SessionID == 0 {
				outcome = "invalid-session"
			}
			c.counts["handshake "+outcome]++
		}
		ex := o.Exchange
		if ex == nil {
			continue
		}
		for _, e := range ex.Events {
			c.counts["event "+eventName(e.Type)]++
		}
		if o.Note != "" {
			what := o.What
			if strings.HasPrefix(what, "s") {
				if _, rest, ok := strings.Cut(what, " "); ok {
					what = rest // drop the session name
				}
			}
			c.counts[what+" → "+o.Note]++
			continue
		}
		op := opName(o.Op)
		if ex.Outcome != Replied {
			c.counts[fmt.Sprintf("op %s %s", op, ex.Outcome)]++
			continue
		}
		c.counts[fmt.Sprintf("op %s %s", op, errName(ex.Reply.Header.Err))]++
		if m, ok := ex.Reply.Body.(*wire.MultiResponse); ok {
			for _, r := range m.Results {
				if r.Type == wire.OpError {
					c.counts["multi result error "+errName(r.Err)]++
				} else {
					c.counts["multi result "+opName(r.Type)]++
				}
			}
		}
	}
}

// AddCreateModes tallies the create modes of steps with their outcomes in t.
func (c *Coverage) AddCreateModes(t *Transcript, steps []Step) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.counts == nil {
		c.counts = map[string]int{}
	}
	for _, o := range t.Observations {
		if o.Step < 0 || o.Step >= len(steps) || o.Exchange == nil || o.Note != "" {
			continue
		}
		s := steps[o.Step]
		if s.Kind != StepRequest || s.Op != o.Op {
			continue
		}
		switch s.Op {
		case wire.OpCreate, wire.OpCreate2, wire.OpCreateContainer, wire.OpCreateTTL:
			outcome := o.Exchange.Outcome.String()
			if o.Exchange.Outcome == Replied {
				outcome = errName(o.Exchange.Reply.Header.Err)
			}
			c.counts[fmt.Sprintf("create mode %d via %s %s", s.Flags, opName(s.Op), outcome)]++
		}
	}
}

// String lists the tallies, sorted.
func (c *Coverage) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	keys := make([]string, 0, len(c.counts))
	for k := range c.counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%6d  %s\n", c.counts[k], k)
	}
	return b.String()
}
