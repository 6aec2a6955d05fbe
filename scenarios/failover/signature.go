package failover

import (
	"regexp"
	"strings"

	"github.com/zabkit/zabkit/sim/cluster"
)

var numbersRE = regexp.MustCompile(`[0-9]+`)

// Signature names how a run failed, without the particulars that change from run to run:
// the failure kind and the first line of its detail with every number replaced by N
// ("panic: zab: invariant violated: truncation after N.N would cut committed txns up to
// N.N"). Shrinkers keep a smaller schedule only if it fails with the same signature, so a
// shrunk schedule shows the same bug, not merely some failure.
func Signature(f *cluster.Failure) string {
	if f == nil {
		return ""
	}
	first, _, _ := strings.Cut(f.Detail, "\n")
	return f.Kind.String() + ": " + numbersRE.ReplaceAllString(first, "N")
}
