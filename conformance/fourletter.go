package conformance

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// fourLetterReplyBytesMax bounds what FourLetterWord reads (a 4lw reply is text about the
// server; cons/dump on a busy server are the largest).
const fourLetterReplyBytesMax = 4 << 20

// FourLetterWords are the commands TestFourLetterWordsAgree compares: those monitoring tools
// parse (issue 8), then the administrative ones; crst and srst come last because they reset
// what the others count. stmk is not here: it needs its eight mask bytes (SetTraceMask).
var FourLetterWords = []string{"ruok", "srvr", "stat", "mntr", "envi", "conf", "cons", "wchs", "wchc", "wchp",
	"isro", "dump", "dirs", "gtmk", "hash", "crst", "srst"}

// WatchListingWords are the words that list the data-watch table watch by watch (WatchCommand's
// dumpWatches: by session, by path). Apache prints its HashMaps' order, zabd increasing order,
// so their replies are compared as sets of watches (WatchPairs).
var WatchListingWords = []string{"wchc", "wchp"}

// FourLetterWord sends a four-letter-word command on a fresh connection and returns everything
// the server writes before closing it (zk-protocol.md §11). The whole exchange is bounded by
// timeout.
func FourLetterWord(addr, cmd string, timeout time.Duration) (string, error) {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return "", err
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(timeout)); err != nil {
		return "", err
	}
	if _, err := io.WriteString(c, cmd); err != nil {
		return "", err
	}
	out, err := io.ReadAll(io.LimitReader(c, fourLetterReplyBytesMax))
	if err != nil {
		return string(out), fmt.Errorf("conformance: %s on %s: %w", cmd, addr, err)
	}
	return string(out), nil
}

// SetTraceMask sends stmk followed by mask as the eight-byte big-endian long ZooKeeper reads
// after the word (NIOServerCnxn.checkFourLetterWord: incomingBuffer.getLong) and returns the
// reply: the mask the server now holds, in decimal. Without the eight bytes both Apache
// ZooKeeper 3.8.0 and zabd close the connection unanswered.
func SetTraceMask(addr string, mask int64, timeout time.Duration) (string, error) {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return "", err
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(timeout)); err != nil {
		return "", err
	}
	req := binary.BigEndian.AppendUint64([]byte("stmk"), uint64(mask))
	if _, err := c.Write(req); err != nil {
		return "", err
	}
	out, err := io.ReadAll(io.LimitReader(c, fourLetterReplyBytesMax))
	if err != nil {
		return string(out), fmt.Errorf("conformance: stmk %d on %s: %w", mask, addr, err)
	}
	return string(out), nil
}

// WatchPairs reads a wchc or wchp reply into its watches, one "<session> <path>" per watch,
// sorted. The reply is WatchCommand's dumpWatches: a header line per session (wchc, 0x<id>)
// or per path (wchp), each followed by its paths or sessions indented by a tab, then the blank
// line of the final println. Session ids are replaced by their names in sessions, so that the
// listings of two servers, whose ids differ, compare; an id not in sessions reads as
// "unknown-0x<id>", which no other server's listing can match. A malformed reply (an indented
// line before any header, a header that is not a session id or a path, a watch listed twice,
// no final blank line) is an error.
func WatchPairs(cmd, out string, sessions map[int64]string) ([]string, error) {
	if cmd != "wchc" && cmd != "wchp" {
		return nil, fmt.Errorf("conformance: WatchPairs of %q: not a watch listing (wchc, wchp)", cmd)
	}
	if out == "\n" {
		return nil, nil // an empty table: the blank line alone
	}
	body, ok := strings.CutSuffix(out, "\n\n")
	if !ok {
		return nil, fmt.Errorf("conformance: %s reply does not end with a blank line: %q", cmd, out)
	}
	session := func(s string) (string, error) {
		hex, ok := strings.CutPrefix(s, "0x")
		id, err := strconv.ParseUint(hex, 16, 64)
		if !ok || err != nil {
			return "", fmt.Errorf("conformance: %s: %q is not a session id (0x<hex>)", cmd, s)
		}
		if name, ok := sessions[int64(id)]; ok {
			return name, nil
		}
		return "unknown-" + s, nil
	}
	var pairs []string
	seen := map[string]bool{}
	header := ""
	for _, l := range strings.Split(body, "\n") {
		item, indented := strings.CutPrefix(l, "\t")
		if !indented {
			if cmd == "wchc" {
				name, err := session(l)
				if err != nil {
					return nil, err
				}
				header = name
			} else {
				if !strings.HasPrefix(l, "/") {
					return nil, fmt.Errorf("conformance: wchp: header %q is not a path", l)
				}
				header = l
			}
			continue
		}
		if header == "" {
			return nil, fmt.Errorf("conformance: %s: indented line %q before any header", cmd, l)
		}
		pair := header + " " + item
		if cmd == "wchp" {
			name, err := session(item)
			if err != nil {
				return nil, err
			}
			pair = name + " " + header
		} else if !strings.HasPrefix(item, "/") {
			return nil, fmt.Errorf("conformance: wchc: watched path %q does not start with /", item)
		}
		if seen[pair] {
			return nil, fmt.Errorf("conformance: %s lists the watch %q twice", cmd, pair)
		}
		seen[pair] = true
		pairs = append(pairs, pair)
	}
	sort.Strings(pairs)
	return pairs, nil
}

// FourLetterReport is the comparable content of one 4lw reply: for every field a server
// prints, its value where that value is stable (the same on any server in the same state, such
// as Mode or a configured limit) or the shape of its value where only the format is stable
// (counters, latencies, ports, paths, dates). Two servers agree when their reports are equal.
type FourLetterReport struct {
	Command string
	// Fields maps a field name (a key, or a line label) to "=<value>" for a stable value or
	// "~<shape>" for a shape (see Shape).
	Fields map[string]string
}

// stableKeys are the fields whose values must match exactly. The rest only need the same
// shape: counters, timings, sizes, ports and paths legitimately differ between two servers.
var stableKeys = map[string]bool{
	"Mode": true, "zk_server_state": true, "Outstanding": true, "zk_outstanding_requests": true,
	"tickTime": true, "minSessionTimeout": true, "maxSessionTimeout": true, "maxClientCnxns": true,
	"secureClientPort": true, "clientPortListenBacklog": true, "serverId": true,
	"ruok": true, "version-number": true,
}

// hostKeys are fields whose values describe the machine and the runtime rather than the
// server (envi's host, JVM and user lines, conf's directories: ZooKeeper appends its
// version-2 subdirectory, zabd keeps its files in dataDir itself): only their presence is
// compared.
var hostKeys = map[string]bool{
	"host.name": true, "user.name": true, "user.home": true, "user.dir": true,
	"os.name": true, "os.arch": true, "os.version": true,
	"java.version": true, "java.vendor": true, "java.home": true, "java.class.path": true,
	"java.library.path": true, "java.io.tmpdir": true, "java.compiler": true,
	"dataDir": true, "dataLogDir": true,
}

// MonitoredMntrKeys are the mntr keys monitoring tools parse (zkServer.sh-style scripts,
// the Datadog and Prometheus exporters, Nagios checks; issue 8): both servers must print
// every one of them that applies to their mode, in the same format. The leader adds
// zk_learners, zk_synced_followers, zk_synced_non_voting_followers, zk_synced_observers and
// zk_pending_syncs, and a quorum member zk_quorum_size.
var MonitoredMntrKeys = []string{
	"zk_version", "zk_server_state", "zk_avg_latency", "zk_min_latency", "zk_max_latency",
	"zk_packets_received", "zk_packets_sent", "zk_num_alive_connections",
	"zk_outstanding_requests", "zk_uptime", "zk_znode_count", "zk_watch_count",
	"zk_ephemerals_count", "zk_approximate_data_size", "zk_global_sessions", "zk_local_sessions",
	"zk_open_file_descriptor_count", "zk_max_file_descriptor_count",
	"zk_quorum_size", "zk_learners", "zk_synced_followers", "zk_synced_non_voting_followers",
	"zk_synced_observers", "zk_pending_syncs",
}

// ZabdMntrExtras are the mntr keys zabd prints that Apache ZooKeeper 3.8.0 does not (tools
// skip keys they do not know).
var ZabdMntrExtras = []string{"zk_last_zxid", "zk_pending_persists", "zk_fsync_count", "zk_snapshot_count"}

// Monitored returns the part of an mntr report that two conforming servers must share: the
// MonitoredMntrKeys and the version number. Apache's other ~170 keys (JVM, processor
// queues, per-namespace and summary-set metrics) describe its Java internals.
func (r FourLetterReport) Monitored() FourLetterReport {
	out := FourLetterReport{Command: r.Command, Fields: map[string]string{}}
	for _, k := range append([]string{"version-number"}, MonitoredMntrKeys...) {
		if v, ok := r.Fields[k]; ok {
			out.Fields[k] = v
		}
	}
	return out
}

var (
	digitsRE    = regexp.MustCompile(`[0-9]+`)
	namespaceRE = regexp.MustCompile(`^(zk_(?:avg|min|max|cnt|sum))_.+_(read|write)_per_namespace$`)
	floatRE     = regexp.MustCompile(`[0-9]+\.[0-9]+(E-?[0-9]+)?`)
	hexRE       = regexp.MustCompile(`0x[0-9a-fA-F]+`)
	versionRE   = regexp.MustCompile(`^([0-9]+\.[0-9]+\.[0-9]+)-(\S*), built on ([0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}) (\S+)$`)
)

// Shape abstracts a value to its format: hex numbers become <hex>, decimals F, other digit
// runs N, so "0x1a" → "<hex>", "0/0.5/3" → "N/F/N", "1.2E-4" → "F", "/127.0.0.1:4312[1](queued=0,...)" → "/N.N.N.N:N[N](queued=N,...)".
// A ZooKeeper version line keeps its release number and the build-date format (what
// zkServer.sh-style scripts and client libraries parse out of srvr and envi).
func Shape(v string) string {
	if m := versionRE.FindStringSubmatch(v); m != nil {
		return m[1] + "-<git>, built on YYYY-MM-DD hh:mm " + m[4]
	}
	v = hexRE.ReplaceAllString(v, "<hex>")
	// Java prints doubles as 0.0, 12.5 or 1.2E-4 depending on the value.
	v = floatRE.ReplaceAllString(v, "F")
	return digitsRE.ReplaceAllString(v, "N")
}

// ParseFourLetter turns a 4lw reply into its report. Unknown commands give a report of the
// line shapes, so any reply can be compared.
func ParseFourLetter(cmd, out string) FourLetterReport {
	r := FourLetterReport{Command: cmd, Fields: map[string]string{}}
	put := func(key, value string) {
		key = strings.TrimSpace(key)
		value = strings.TrimSpace(value)
		switch {
		case stableKeys[key]:
			r.Fields[key] = "=" + value
		case hostKeys[key]:
			r.Fields[key] = "~present"
		default:
			r.Fields[key] = "~" + Shape(value)
		}
		if strings.Contains(strings.ToLower(key), "version") {
			if m := versionRE.FindStringSubmatch(value); m != nil {
				r.Fields["version-number"] = "=" + m[1]
			}
		}
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	switch {
	case out == "":
		// Closed unanswered (a word the server does not answer, or hash with no digest log).
		r.Fields["reply"] = "=empty"
		return r
	case cmd == "gtmk":
		// The trace mask: the same on any server that was not sent stmk.
		r.Fields["mask"] = "=" + out
		return r
	}
	switch cmd {
	case "ruok":
		r.Fields["ruok"] = "=" + out
	case "mntr":
		for _, l := range lines {
			if k, v, ok := strings.Cut(l, "\t"); ok {
				// Per-namespace metrics are named after the top-level znodes that exist.
				k = namespaceRE.ReplaceAllString(k, "${1}_<namespace>_${2}_per_namespace")
				put(k, v)
			}
		}
	case "envi", "conf":
		for _, l := range lines {
			if k, v, ok := strings.Cut(l, "="); ok {
				put(k, v)
			} else if l != "" {
				r.Fields["line:"+Shape(l)] = "~present"
			}
		}
	case "srvr", "stat":
		inClients := false
		for _, l := range lines {
			switch {
			case l == "Clients:":
				inClients = true
				r.Fields["Clients"] = "~present"
			case l == "":
				inClients = false
			case inClients:
				// One line per connection; only the shape of such a line is comparable.
				r.Fields["client-line:"+Shape(l)] = "~present"
			default:
				if k, v, ok := strings.Cut(l, ": "); ok {
					put(k, v)
				} else {
					r.Fields["line:"+Shape(l)] = "~present"
				}
			}
		}
	default: // cons, wchs and anything else: the set of line shapes
		for _, l := range lines {
			if l != "" {
				r.Fields["line:"+Shape(strings.TrimSpace(l))] = "~present"
			}
		}
	}
	return r
}

var (
	wchsRE       = regexp.MustCompile(`^(\d+) connections watching (\d+) paths\nTotal watches:(\d+)\n$`)
	mntrCountRE  = regexp.MustCompile(`(?m)^(zk_znode_count|zk_watch_count|zk_ephemerals_count)\t(\d+)$`)
	nodeCountRE  = regexp.MustCompile(`(?m)^Node count: (\d+)$`)
	sessionSetRE = regexp.MustCompile(`(?m)^Session Sets \(\d+\)/\((\d+)\):$`)
)

// StateCounts extracts from 4lw replies (keyed by word) the figures that describe the data
// and watch state rather than the traffic, which two servers in the same state must print
// exactly: mntr's znode, watch and ephemeral counts, srvr's node count, wchs's three
// numbers, and from dump the number of tracked sessions, of sessions holding ephemerals and
// the ephemeral paths (a sorted set: ZooKeeper prints its HashSet's order). A figure missing
// from a reply is reported as "missing".
func StateCounts(outs map[string]string) map[string]string {
	got := map[string]string{}
	for _, m := range mntrCountRE.FindAllStringSubmatch(outs["mntr"], -1) {
		got["mntr "+m[1]] = m[2]
	}
	for _, k := range []string{"zk_znode_count", "zk_watch_count", "zk_ephemerals_count"} {
		if _, ok := got["mntr "+k]; !ok {
			got["mntr "+k] = "missing"
		}
	}
	got["srvr Node count"] = "missing"
	if m := nodeCountRE.FindStringSubmatch(outs["srvr"]); m != nil {
		got["srvr Node count"] = m[1]
	}
	got["wchs connections"], got["wchs paths"], got["wchs watches"] = "missing", "missing", "missing"
	if m := wchsRE.FindStringSubmatch(outs["wchs"]); m != nil {
		got["wchs connections"], got["wchs paths"], got["wchs watches"] = m[1], m[2], m[3]
	}
	got["dump sessions"] = "missing"
	if m := sessionSetRE.FindStringSubmatch(outs["dump"]); m != nil {
		got["dump sessions"] = m[1]
	}
	holders, paths, ok := dumpEphemerals(outs["dump"])
	got["dump sessions with ephemerals"], got["dump ephemerals"] = "missing", "missing"
	if ok {
		got["dump sessions with ephemerals"] = fmt.Sprint(holders)
		got["dump ephemerals"] = strings.Join(paths, " ")
	}
	return got
}

// dumpEphemerals reads the "ephemeral nodes dump" section of a dump reply: the number of
// sessions it says hold ephemerals and their paths, sorted.
func dumpEphemerals(out string) (holders int, paths []string, ok bool) {
	_, section, found := strings.Cut(out, "ephemeral nodes dump:\n")
	if !found {
		return 0, nil, false
	}
	section, _, _ = strings.Cut(section, "Connections dump:")
	lines := strings.Split(section, "\n")
	if _, err := fmt.Sscanf(lines[0], "Sessions with Ephemerals (%d):", &holders); err != nil {
		return 0, nil, false
	}
	for _, l := range lines[1:] {
		if p, isPath := strings.CutPrefix(l, "\t"); isPath {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	return holders, paths, true
}

// Diff lists the fields where r and other disagree, one line each, sorted; empty when they
// agree. Labels name the two sides.
func (r FourLetterReport) Diff(other FourLetterReport, label, otherLabel string) []string {
	keys := map[string]bool{}
	for k := range r.Fields {
		keys[k] = true
	}
	for k := range other.Fields {
		keys[k] = true
	}
	var sorted []string
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	var diffs []string
	for _, k := range sorted {
		a, okA := r.Fields[k]
		b, okB := other.Fields[k]
		switch {
		case !okA:
			diffs = append(diffs, fmt.Sprintf("%s %s: only %s has it (%s)", r.Command, k, otherLabel, b))
		case !okB:
			diffs = append(diffs, fmt.Sprintf("%s %s: only %s has it (%s)", r.Command, k, label, a))
		case a != b:
			diffs = append(diffs, fmt.Sprintf("%s %s: %s %s, %s %s", r.Command, k, label, a, otherLabel, b))
		}
	}
	return diffs
}
