package daemon

import (
	"errors"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/zabkit/zabkit/zab"
	"github.com/zabkit/zabkit/zab/wire"
)

// latency is a running min/avg/max in whole milliseconds, as ZooKeeper's ServerStats and
// cons keep them (so sub-millisecond requests count as 0).
type latency struct {
	count    int64
	sumMs    int64
	min, max int64
}

func (l *latency) add(d time.Duration) {
	ms := d.Milliseconds()
	if l.count == 0 || ms < l.min {
		l.min = ms
	}
	l.max = max(l.max, ms)
	l.sumMs += ms
	l.count++
}

func (l latency) minMs() int64 { return l.min }
func (l latency) maxMs() int64 { return l.max }
func (l latency) avgMs() float64 {
	if l.count == 0 {
		return 0
	}
	return float64(l.sumMs) / float64(l.count)
}

// metrics are the server's counters, for the 4lw and for Prometheus. Each server has its
// own registry, so several can run in one process (tests, zabd dev).
type metrics struct {
	s   *Server
	reg *prometheus.Registry

	packetsReceived atomic.Uint64
	packetsSent     atomic.Uint64
	committed       prometheus.Counter
	badFrames       prometheus.Counter
	connRejected    prometheus.Counter
	readsThrottled  prometheus.Counter
	fourLetter      *prometheus.CounterVec
	fsyncs          prometheus.Collector
	leader          prometheus.Gauge
	elections       prometheus.Counter
	requestLatency  *prometheus.HistogramVec

	latMu sync.Mutex
	lat   latency

	ln  net.Listener
	srv *http.Server
}

func newMetrics(s *Server) *metrics {
	m := &metrics{s: s, reg: prometheus.NewRegistry()}
	m.committed = prometheus.NewCounter(prometheus.CounterOpts{Name: "zabkit_committed_txns_total", Help: "Txns this member applied."})
	m.badFrames = prometheus.NewCounter(prometheus.CounterOpts{Name: "zabkit_client_bad_frames_total", Help: "Client connections closed for an out-of-range frame length."})
	m.connRejected = prometheus.NewCounter(prometheus.CounterOpts{Name: "zabkit_client_connections_rejected_total", Help: "Connections refused by maxClientCnxns."})
	m.readsThrottled = prometheus.NewCounter(prometheus.CounterOpts{Name: "zabkit_client_reads_throttled_total", Help: "Times a client connection's reads paused because it or the server had too many requests outstanding."})
	m.fourLetter = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "zabkit_four_letter_words_total", Help: "Four-letter words received."}, []string{"word"})
	// A counter read from the writer at scrape time: it only grows, so rate() works on it.
	m.fsyncs = prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "zabkit_log_fsyncs_total", Help: "Group-commit fsync rounds of the txn log."},
		func() float64 { return float64(s.writer.Syncs()) })
	m.leader = prometheus.NewGauge(prometheus.GaugeOpts{Name: "zabkit_leader", Help: "1 while this member is the established leader."})
	m.elections = prometheus.NewCounter(prometheus.CounterOpts{Name: "zabkit_state_changes_total", Help: "Role and phase changes of the zab peer."})
	m.requestLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "zabkit_request_latency_seconds", Help: "Client request latency, from frame read to reply queued.",
		Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
	}, []string{"op"})
	counter := func(name, help string, v *atomic.Uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return float64(v.Load()) })
	}
	// Flow control: requests read and not answered (the readers pause at
	// serverRequestsInFlightMax), and forwarded requests waiting for the leader's window.
	inFlight := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "zabkit_client_requests_in_flight",
		Help: "Client requests read and not yet answered, over all connections."},
		func() float64 { return float64(s.requestsInFlight.Load()) })
	waiting := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "zabkit_forwards_waiting",
		Help: "Requests waiting at the leader for its proposal window (0 unless leading)."},
		func() float64 {
			var n int
			s.query(func() { n = s.node.Stats().ForwardsWaiting })
			return float64(n)
		})
	m.reg.MustRegister(inFlight, waiting)
	m.reg.MustRegister(m.committed, m.badFrames, m.connRejected, m.readsThrottled, m.fourLetter, m.fsyncs, m.leader, m.elections, m.requestLatency,
		counter("packets_received", "Client frames received (ZooKeeper's name).", &m.packetsReceived),
		counter("packets_sent", "Client frames sent (ZooKeeper's name).", &m.packetsSent),
		nodeCollector{s})
	return m
}

func (m *metrics) observeLatency(op wire.OpCode, d time.Duration) {
	m.requestLatency.WithLabelValues(opTag(op)).Observe(d.Seconds())
	m.latMu.Lock()
	m.lat.add(d)
	m.latMu.Unlock()
}

func (m *metrics) latencySummary() latency {
	m.latMu.Lock()
	defer m.latMu.Unlock()
	return m.lat
}

func (m *metrics) stateChanged(st zab.StateChanged) {
	m.elections.Inc()
	if st.Role == zab.Leading && st.Phase == zab.Broadcast {
		m.leader.Set(1)
	} else {
		m.leader.Set(0)
	}
}

// serve starts the HTTP endpoint at addr ("" = off).
func (m *metrics) serve(addr string) error {
	if addr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	m.ln = ln
	m.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := m.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.s.log.Error("metrics endpoint stopped", "err", err)
		}
	}()
	return nil
}

func (m *metrics) addr() net.Addr {
	if m.ln == nil {
		return nil
	}
	return m.ln.Addr()
}

func (m *metrics) close() {
	if m.srv != nil {
		m.srv.Close()
	}
}

// nodeCollector reads the node's gauges in one query per scrape, with ZooKeeper's names.
type nodeCollector struct{ s *Server }

var nodeGauges = []struct{ name, help string }{
	{"znode_count", "Znodes in the tree (ZooKeeper counts the root twice)."},
	{"watch_count", "Watches set by this member's sessions."},
	{"global_sessions", "Sessions in the leader's tracker (0 unless leading)."},
	{"local_sessions", "Sessions connected to this member."},
	{"num_alive_connections", "Open client connections."},
	{"outstanding_requests", "Prepared and not yet applied changes (leader)."},
	{"last_applied_zxid", "Zxid of the last applied txn."},
	{"pending_persists", "Log writes waiting for fsync."},
	{"serving", "1 while the member accepts clients."},
}

func (nodeCollector) desc(i int) *prometheus.Desc {
	return prometheus.NewDesc(nodeGauges[i].name, nodeGauges[i].help, nil, nil)
}

func (c nodeCollector) Describe(ch chan<- *prometheus.Desc) {
	for i := range nodeGauges {
		ch <- c.desc(i)
	}
}

func (c nodeCollector) Collect(ch chan<- prometheus.Metric) {
	v := c.s.view()
	if !v.ok {
		return
	}
	serving := 0.0
	if v.serving {
		serving = 1
	}
	vals := []float64{float64(v.nodeCount), float64(v.watches), float64(v.tracked), float64(v.sessions),
		float64(len(c.s.connsSorted())), float64(v.outstanding), float64(v.lastApplied), float64(v.pending), serving}
	for i, val := range vals {
		ch <- prometheus.MustNewConstMetric(c.desc(i), prometheus.GaugeValue, val)
	}
}
