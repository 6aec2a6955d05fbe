package daemon

import (
	"io"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/stretchr/testify/require"

	"github.com/zabkit/zabkit/daemon/config"
)

// scrape fetches the member's /metrics text.
func scrape(t *testing.T, s *Server) string {
	t.Helper()
	resp, err := http.Get("http://" + s.MetricsAddr().String() + "/metrics")
	require.NoError(t, err, "GET /metrics")
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err, "reading /metrics")
	return string(body)
}

// TestFsyncMetricIsACounter: the log's fsync rounds only grow, so they are exported as a
// Prometheus counter (rate() needs one), and it grows with writes.
func TestFsyncMetricIsACounter(t *testing.T) {
	e := startEnsemble(t, 1, func(c *config.Config) { c.MetricsAddr = "127.0.0.1:0" })
	value := func() float64 {
		text := scrape(t, e.Servers[0])
		require.Contains(t, text, "# TYPE zabkit_log_fsyncs_total counter", "the fsync metric's type")
		m := regexp.MustCompile(`(?m)^zabkit_log_fsyncs_total (\S+)$`).FindStringSubmatch(text)
		require.NotNil(t, m, "no zabkit_log_fsyncs_total sample in:\n%s", text)
		v, err := strconv.ParseFloat(m[1], 64)
		require.NoError(t, err, "sample value %q", m[1])
		return v
	}
	before := value()
	c, _ := connect(t, e.Addrs(), 2*time.Second)
	for i := range 5 {
		_, err := c.Create("/f"+strconv.Itoa(i), nil, 0, zk.WorldACL(zk.PermAll))
		require.NoError(t, err, "create /f%d", i)
	}
	require.Greater(t, value(), before, "five acknowledged creates were fsynced")
}

// TestFlowControlGauges: the read bound's and the leader queue's gauges are exported.
func TestFlowControlGauges(t *testing.T) {
	e := startEnsemble(t, 1, func(c *config.Config) { c.MetricsAddr = "127.0.0.1:0" })
	text := scrape(t, e.Servers[0])
	for _, line := range []string{"# TYPE zabkit_client_requests_in_flight gauge\nzabkit_client_requests_in_flight 0\n",
		"# TYPE zabkit_forwards_waiting gauge\nzabkit_forwards_waiting 0\n"} {
		require.Contains(t, text, line, "an idle server's flow-control gauge")
	}
}
