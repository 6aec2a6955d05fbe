package checker

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestReplicaDigests(t *testing.T) {
	for _, tc := range []struct {
		name    string
		samples []DigestSample
		failAt  int // index of the sample that must fail; -1: none
		names   []string
	}{
		{"replicas agree at every zxid", []DigestSample{
			{"s1", 0x100000001, 7}, {"s2", 0x100000001, 7}, {"s1", 0x100000002, 9},
			{"s3", 0x100000001, 7}, {"s2", 0x100000002, 9},
		}, -1, nil},
		{"different digests at different zxids are no disagreement", []DigestSample{
			{"s1", 0x100000001, 7}, {"s2", 0x100000002, 8},
		}, -1, nil},
		{"two servers differ at one zxid", []DigestSample{
			{"s1", 0x100000001, 7}, {"s1", 0x100000002, 9}, {"s2", 0x100000001, 7}, {"s2", 0x100000002, 10},
		}, 3, []string{"s1", "s2", "0x9", "0xa", "1.2"}},
		{"a third server differs from the first", []DigestSample{
			{"s1", 0x200000005, 1}, {"s2", 0x200000005, 1}, {"s3", 0x200000005, 2},
		}, 2, []string{"s1", "s3", "2.5"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := NewReplicaDigests()
			for i, s := range tc.samples {
				err := d.Observe(s)
				if i != tc.failAt {
					require.NoError(t, err, "sample %d %+v of %+v", i, s, tc.samples)
					continue
				}
				require.Error(t, err, "sample %d %+v disagrees with an earlier one of its zxid: %+v", i, s, tc.samples)
				require.Contains(t, err.Error(), CheckReplicaDigest)
				for _, n := range tc.names {
					require.Contains(t, err.Error(), n, "the error names both servers, both digests and the zxid")
				}
			}
		})
	}
}
