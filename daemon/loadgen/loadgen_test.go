package loadgen_test

import (
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zabkit/zabkit/daemon"
	"github.com/zabkit/zabkit/daemon/loadgen"
)

func TestRunMeasuresEveryWorkload(t *testing.T) {
	e, err := daemon.StartEnsemble(daemon.EnsembleOptions{Dir: t.TempDir(), Servers: 1,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	defer e.Close()
	for _, op := range loadgen.Ops {
		r, err := loadgen.Run(loadgen.Options{Servers: e.Addrs(), Sessions: 2, Duration: 150 * time.Millisecond, Op: op, ValueBytes: 10})
		require.NoError(t, err, op)
		assert.Positive(t, r.Ops, "%s: no operation completed", op)
		assert.Zero(t, r.Errors, "%s: errors", op)
		assert.LessOrEqual(t, r.P50, r.P99, "%s: p50 above p99", op)
		assert.LessOrEqual(t, r.P99, r.Max, "%s: p99 above max", op)
		assert.InDelta(t, float64(r.Ops)/r.Elapsed.Seconds(), r.OpsPerSec, 1e-6, op)
	}
	_, err = loadgen.Run(loadgen.Options{Servers: e.Addrs(), Sessions: 1, Duration: time.Millisecond, Op: "delete-all"})
	assert.ErrorContains(t, err, `unknown op "delete-all"`)
}
