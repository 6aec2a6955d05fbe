package zk

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/zabkit/zabkit/checker"
	"github.com/zabkit/zabkit/zab/node"
)

// A server that breaks the client protocol fails the run with FailProtocol, each defect
// with the clients' message for it.
func TestClientProtocolChecksFire(t *testing.T) {
	for _, tc := range []struct {
		bug    hostBug
		opts   Options
		detail string
	}{
		{bugSwapReplies, Quiet(2), "replies out of request order"},
		{bugRepeatConnectResponse, Quiet(2), "with no request outstanding"},
		{bugCutReply, Quiet(2), "does not decode"},
		{bugCutNotification, Quiet(2), "notification from"},
		{bugCutConnectResponse, Quiet(2), "ConnectResponse from"},
		// Resumes need lost connections: a swarm seed with faults.
		{bugOtherSessionOnResume, Swarm(3, time.Second), "resumed session"},
	} {
		o := tc.opts
		o.OutDir = t.TempDir()
		o.bug = tc.bug
		r := Run(o)
		require.True(t, r.Failed(), "%v must fail the run (expected FailProtocol %q):\n%v", tc.bug, tc.detail, r)
		require.Equal(t, FailProtocol, r.Failure.Kind, "%v: expected FailProtocol %q, got %v\nreplay: %s", tc.bug, tc.detail, r.Failure, r.ReplayCommand())
		require.Contains(t, r.Failure.Detail, tc.detail, "%v: the clients' message\nreplay: %s", tc.bug, r.ReplayCommand())
	}
}

// Replicas must apply the same txn bytes and reach the same tree digest at every zxid.
func TestReplicaDigestAgreementFires(t *testing.T) {
	at := func(data string, digest uint64) node.Committed {
		return node.Committed{Zxid: 1<<32 | 1, Data: []byte(data), Digest: digest}
	}
	rec := newRecorder()
	require.NoError(t, rec.commit("s1", at("a", 7)), "the first server to apply a zxid sets what the others must match")
	require.NoError(t, rec.commit("s2", at("a", 7)), "the same bytes and digest agree")
	err := rec.commit("s3", at("b", 7))
	require.ErrorContains(t, err, "s1 and s3 committed different txns", "other bytes at the same zxid")
	err = rec.commit("s3", at("a", 8))
	require.ErrorContains(t, err, "replica digests differ", "another digest at the same zxid")

	// The whole path: a host reporting a wrong digest for s2 fails the run as a safety
	// violation.
	o := Quiet(2)
	o.OutDir = t.TempDir()
	o.bug = bugDigestSkew
	r := Run(o)
	require.True(t, r.Failed(), "a skewed digest on s2 must fail the run:\n%v", r)
	require.Equal(t, FailSafety, r.Failure.Kind, "%v\nreplay: %s", r.Failure, r.ReplayCommand())
	require.Contains(t, r.Failure.Detail, "replica digests differ", "replay: %s", r.ReplayCommand())
}

// The liveness check fires on a request still unanswered a bound after the heal, and on a
// client that got no reply within the last bound; a healthy run trips neither.
func TestLivenessChecksFire(t *testing.T) {
	build := func() (*Cluster, time.Duration) {
		o := Quiet(1)
		o.LivenessBoundTicks = 10
		c, err := New(o)
		require.NoError(t, err)
		c.runUntil(2*time.Second, func() bool { return false })
		require.Nil(t, c.failure, "the quiet run itself must not fail")
		return c, c.ticks(o.LivenessBoundTicks)
	}
	c, bound := build()
	c.checkLiveness(0, bound)
	require.Nil(t, c.failure, "a healthy quiet run at 2s must pass the liveness check")

	c, bound = build()
	c.rec.call(checker.Op{Client: 0, Session: 1, Xid: 1 << 20, Call: int64(time.Millisecond), Unknown: true})
	c.checkLiveness(0, bound)
	require.NotNil(t, c.failure, "a request sent at 1ms and unanswered at 2s must fail a 200ms bound")
	require.Equal(t, FailLiveness, c.failure.Kind)
	require.Contains(t, c.failure.Detail, "is still unanswered")

	c, bound = build()
	c.clients[1].lastReplyAt = 0
	c.checkLiveness(0, bound)
	require.NotNil(t, c.failure, "a client with no reply since 0 must fail a 200ms bound at 2s")
	require.Equal(t, FailLiveness, c.failure.Kind)
	require.Contains(t, c.failure.Detail, "client c1 got no reply")
}
