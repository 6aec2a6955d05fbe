package main

import (
	"cmp"
	"fmt"
	"html"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/zabkit/zabkit/sim"
)

// timeline is what the HTML page of one run shows: one lane per node over virtual time,
// each lane coloured by the node's role (from its state-change notes) and grey while it is
// down, the messages between nodes as lines from send to delivery (red when dropped), the
// faults as vertical lines, and the failure, if any, as a thick red line with its report.
// The page is self-contained (inline SVG and CSS, no script) and well-formed XML, so a
// test can parse it.
type timeline struct {
	title    string
	seed     uint64
	settings string // one setting a line
	events   []sim.Event
	// failure is the failed check's report ("" for a passing run), failKind its class and
	// failAt its virtual time.
	failure  string
	failKind string
	failAt   time.Duration
	replay   string // the command that replays the run
	// marks are the failing ops and events a client-level check named (sim/zk), drawn
	// over their client's lane.
	marks []mark
}

// mark is one highlighted op or event: on lane from..to (a point when equal).
type mark struct {
	lane     string
	from, to time.Duration
	text     string
}

// Bounds keep the page light enough for a browser: a swarm seed sends tens of thousands of
// messages. The messages drawn are the last messagesDrawnMax up to the failure (or the end).
const (
	messagesDrawnMax = 4000
	traceTailLines   = 400
	pageWidthMaxPx   = 24000
	laneHeightPx     = 44
	marginLeftPx     = 70
)

// roleColours colour a lane by the role its node last announced (zab's StateChanged notes
// start with the role; zab/node's say "role=").
var roleColours = []struct{ role, colour string }{
	{"LEADING", "#f6c85f"}, {"FOLLOWING", "#9dd9d2"}, {"OBSERVING", "#c5b0f4"}, {"LOOKING", "#f4f4f4"},
}

// segment is a stretch of a lane in one state.
type segment struct {
	from, to time.Duration
	state    string // a role, "down", or "" (unknown: before the first note)
}

func (t timeline) write(w io.Writer) error {
	lanes := t.lanes()
	end := time.Duration(0)
	if n := len(t.events); n > 0 {
		end = t.events[n-1].At
	}
	end = max(end, t.failAt, time.Millisecond)
	endMs := float64(end) / float64(time.Millisecond)
	pxPerMs := min(4, float64(pageWidthMaxPx)/endMs)
	x := func(at time.Duration) float64 {
		return marginLeftPx + float64(at)/float64(time.Millisecond)*pxPerMs
	}
	laneY := map[string]float64{}
	for i, l := range lanes {
		laneY[l] = float64(30 + i*laneHeightPx + laneHeightPx/2)
	}
	width := x(end) + 40
	height := float64(30 + len(lanes)*laneHeightPx + 10)

	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	esc := html.EscapeString
	p("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n<title>%s</title>\n", esc(t.title))
	p(`<style>
body { font-family: sans-serif; margin: 1em; }
.scroll { overflow-x: auto; border: 1px solid #ccc; }
.fail { background: #fdd; border: 2px solid #c00; padding: 0.5em; }
.ok { background: #dfd; border: 2px solid #080; padding: 0.5em; }
pre { font-size: 12px; }
mark { background: #f99; }
table { border-collapse: collapse; font-size: 13px; }
td, th { border: 1px solid #ccc; padding: 2px 6px; text-align: left; }
.legend span { display: inline-block; padding: 2px 8px; margin-right: 4px; border: 1px solid #999; }
</style>
</head>
<body>
`)
	p("<h1>%s</h1>\n", esc(t.title))
	if t.failure != "" {
		p("<div class=\"fail\" id=\"failure\"><b>FAILED: %s failure at %v</b><pre>%s</pre></div>\n", esc(t.failKind), t.failAt, esc(t.failure))
	} else {
		p("<div class=\"ok\">The run passed every check.</div>\n")
	}
	if t.replay != "" {
		p("<p>replay: <code>%s</code></p>\n", esc(t.replay))
	}
	p("<p class=\"legend\">lanes: ")
	for _, rc := range roleColours {
		p("<span style=\"background:%s\">%s</span>", rc.colour, rc.role)
	}
	p("<span style=\"background:#888;color:#fff\">down</span> messages: <span>grey: delivered</span><span style=\"color:#c00\">red: dropped</span> faults: <span style=\"color:#e67e00\">orange lines</span> failure: <span style=\"color:#c00\">thick red line</span> (hover for details)</p>\n")

	p("<div class=\"scroll\"><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" font-size=\"11\">\n", width, height)
	// Time axis: a tick every step ms.
	step := axisStep(endMs, pxPerMs)
	for ms := 0.0; ms <= endMs; ms += step {
		at := time.Duration(ms * float64(time.Millisecond))
		p("<line x1=\"%.1f\" y1=\"20\" x2=\"%.1f\" y2=\"%.0f\" stroke=\"#eee\"/><text x=\"%.1f\" y=\"14\">%gms</text>\n", x(at), x(at), height, x(at)+2, ms)
	}
	// Lanes, coloured by state.
	for _, l := range lanes {
		y := laneY[l]
		p("<g class=\"lane\" id=\"lane-%s\">\n<text x=\"4\" y=\"%.0f\" font-weight=\"bold\">%s</text>\n", esc(l), y+4, esc(l))
		for _, s := range t.segments(l, end) {
			colour := "#ffffff"
			switch s.state {
			case "down":
				colour = "#888888"
			case "":
			default:
				for _, rc := range roleColours {
					if rc.role == s.state {
						colour = rc.colour
					}
				}
			}
			label := s.state
			if label == "" {
				label = "booting"
			}
			p("<rect x=\"%.1f\" y=\"%.0f\" width=\"%.1f\" height=\"%d\" fill=\"%s\" stroke=\"#ccc\"><title>%s %s from %v to %v</title></rect>\n",
				x(s.from), y-laneHeightPx/2+4, max(x(s.to)-x(s.from), 0.5), laneHeightPx-8, colour, esc(l), esc(label), s.from, s.to)
		}
		p("</g>\n")
	}
	// Messages.
	drawn, total, from := t.messages(end)
	for _, m := range drawn {
		colour, dash := "#777", ""
		what := "delivered"
		if m.dropped {
			colour, dash, what = "#c00", " stroke-dasharray=\"3,2\"", "dropped ("+m.why+")"
		}
		p("<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" stroke=\"%s\" stroke-width=\"0.7\"%s><title>%s to %s id=%d %dB sent %v, %s %v</title></line>\n",
			x(m.sent), laneY[m.from], x(m.at), laneY[m.to], colour, dash, esc(m.from), esc(m.to), m.id, m.size, m.sent, what, m.at)
	}
	// Crashes, restarts, faults.
	for _, e := range t.events {
		switch e.Kind {
		case sim.KindCrash:
			y := laneY[e.Host]
			p("<text x=\"%.1f\" y=\"%.0f\" fill=\"#c00\" font-size=\"16\" text-anchor=\"middle\">&#x2715;<title>%s crashed at %v</title></text>\n", x(e.At), y+5, esc(e.Host), e.At)
		case sim.KindRestart:
			y := laneY[e.Host]
			p("<text x=\"%.1f\" y=\"%.0f\" fill=\"#080\" font-size=\"14\" text-anchor=\"middle\">&#x25B2;<title>%s restarted at %v</title></text>\n", x(e.At), y+5, esc(e.Host), e.At)
		case sim.KindFault:
			p("<line class=\"fault\" x1=\"%.1f\" y1=\"20\" x2=\"%.1f\" y2=\"%.0f\" stroke=\"#e67e00\" stroke-width=\"1.5\" stroke-dasharray=\"6,3\"><title>fault at %v: %s</title></line>\n",
				x(e.At), x(e.At), height, e.At, esc(e.Text))
		}
	}
	for _, m := range t.marks {
		y, ok := laneY[m.lane]
		if !ok {
			continue
		}
		p("<rect class=\"failing-op\" x=\"%.1f\" y=\"%.0f\" width=\"%.1f\" height=\"%d\" fill=\"#ff0000\" fill-opacity=\"0.45\" stroke=\"#c00\" stroke-width=\"2\"><title>failing: %s</title></rect>\n",
			x(m.from)-2, y-laneHeightPx/2+2, max(x(m.to)-x(m.from), 0)+4, laneHeightPx-4, esc(m.text))
	}
	if t.failure != "" {
		first, _, _ := strings.Cut(t.failure, "\n")
		p("<line id=\"failure-line\" x1=\"%.1f\" y1=\"0\" x2=\"%.1f\" y2=\"%.0f\" stroke=\"#c00\" stroke-width=\"4\"><title>FAILURE at %v: %s</title></line>\n",
			x(t.failAt), x(t.failAt), height, t.failAt, esc(first))
	}
	p("</svg></div>\n")
	p("<p>%d of %d messages drawn (those from %v on).</p>\n", len(drawn), total, from)

	if len(t.marks) > 0 {
		p("<h2>Failing ops and events</h2>\n<table><tr><th>client</th><th>from</th><th>to</th><th>what</th></tr>\n")
		for _, m := range t.marks {
			p("<tr><td>%s</td><td>%v</td><td>%v</td><td>%s</td></tr>\n", esc(m.lane), m.from, m.to, esc(m.text))
		}
		p("</table>\n")
	}
	// Faults as a table.
	p("<h2>Faults</h2>\n<table><tr><th>time</th><th>fault</th></tr>\n")
	for _, e := range t.events {
		switch e.Kind {
		case sim.KindFault:
			p("<tr><td>%v</td><td>%s</td></tr>\n", e.At, esc(e.Text))
		case sim.KindCrash, sim.KindRestart:
			p("<tr><td>%v</td><td>%s %s</td></tr>\n", e.At, e.Kind, esc(e.Host))
		}
	}
	p("</table>\n")
	p("<h2>Settings</h2>\n<pre>%s</pre>\n", esc(t.settings))

	// The trace's tail up to the failure, the failing event marked.
	tail := t.tail()
	p("<h2>Trace: the last %d events%s</h2>\n<pre>", len(tail), map[bool]string{true: " up to the failure", false: ""}[t.failure != ""])
	for _, e := range tail {
		line := esc(e.String())
		if e.Kind == sim.KindNote && strings.HasPrefix(e.Text, "FAILURE") {
			line = "<mark id=\"failing-event\">" + line + "</mark>"
		}
		p("%s\n", line)
	}
	p("</pre>\n</body>\n</html>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// lanes lists the nodes that appear in the trace, servers before clients, in number order.
func (t timeline) lanes() []string {
	seen := map[string]bool{}
	var out []string
	for _, e := range t.events {
		for _, n := range []string{e.Host, e.Peer} {
			if n != "" && !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
	}
	slices.SortFunc(out, func(a, b string) int {
		pa, na := splitName(a)
		pb, nb := splitName(b)
		if pa != pb {
			// servers ("s") first
			if pa == "s" || pb == "s" {
				return map[bool]int{true: -1, false: 1}[pa == "s"]
			}
			return strings.Compare(pa, pb)
		}
		return cmp.Compare(na, nb)
	})
	return out
}

// splitName splits "s12" into "s" and 12.
func splitName(name string) (string, int) {
	i := len(name)
	for i > 0 && name[i-1] >= '0' && name[i-1] <= '9' {
		i--
	}
	n, _ := strconv.Atoi(name[i:])
	return name[:i], n
}

// segments is the lane of one node: its role from its state-change notes, down between a
// crash and a restart.
func (t timeline) segments(node string, end time.Duration) []segment {
	var out []segment
	cur := segment{}
	change := func(at time.Duration, state string) {
		if state == cur.state {
			return
		}
		if at > cur.from {
			cur.to = at
			out = append(out, cur)
		}
		cur = segment{from: at, state: state}
	}
	for _, e := range t.events {
		if e.Host != node {
			continue
		}
		switch e.Kind {
		case sim.KindCrash:
			change(e.At, "down")
		case sim.KindRestart:
			change(e.At, "")
		case sim.KindNote:
			if role := roleOf(e.Text); role != "" {
				change(e.At, role)
			}
		}
	}
	cur.to = end
	return append(out, cur)
}

// roleOf reads the role from a state-change note ("LEADING BROADCAST epoch=..." from
// sim/cluster, "... role=FOLLOWING ..." from sim/zk), or "".
func roleOf(text string) string {
	for _, rc := range roleColours {
		if strings.HasPrefix(text, rc.role+" ") || strings.Contains(text, "role="+rc.role) {
			return rc.role
		}
	}
	return ""
}

// message is one message drawn: sent by from at sent, delivered to (or dropped at) to at at.
type message struct {
	from, to string
	id       uint64
	size     int64
	sent, at time.Duration
	dropped  bool
	why      string
}

// messages pairs sends with their deliveries and drops and keeps the last
// messagesDrawnMax of them that ended by the failure (or the end).
func (t timeline) messages(end time.Duration) (drawn []message, total int, from time.Duration) {
	sent := map[uint64]sim.Event{}
	var all []message
	limit := end
	if t.failure != "" {
		limit = t.failAt
	}
	for _, e := range t.events {
		switch e.Kind {
		case sim.KindSend:
			sent[e.ID] = e
		case sim.KindDeliver, sim.KindDrop:
			s, ok := sent[e.ID]
			if !ok || e.At > limit {
				continue
			}
			all = append(all, message{from: s.Host, to: e.Host, id: e.ID, size: s.Size, sent: s.At, at: e.At,
				dropped: e.Kind == sim.KindDrop, why: e.Text})
		}
	}
	total = len(all)
	if len(all) > messagesDrawnMax {
		all = all[len(all)-messagesDrawnMax:]
	}
	if len(all) > 0 {
		from = all[0].at
	}
	return all, total, from
}

// tail is the last traceTailLines events up to and including the failure note.
func (t timeline) tail() []sim.Event {
	stop := len(t.events)
	for i, e := range t.events {
		if e.Kind == sim.KindNote && strings.HasPrefix(e.Text, "FAILURE") {
			stop = i + 1
			break
		}
	}
	return t.events[max(0, stop-traceTailLines):stop]
}

// axisStep is a round tick interval giving ticks at least 80 px apart.
func axisStep(endMs, pxPerMs float64) float64 {
	for _, s := range []float64{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000} {
		if s*pxPerMs >= 80 || s >= endMs {
			return s
		}
	}
	return 10000
}
