package zk

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestQuietRunPassesEveryCheck(t *testing.T) {
	o := Quiet(1)
	o.OutDir = t.TempDir()
	r := Run(o)
	t.Log(r.String())
	require.False(t, r.Failed(), "a fault-free run must pass every check:\n%v", r)
	require.NotNil(t, r.Report)
	require.Positive(t, r.Stats.Sessions)
	_ = time.Second
}
