package zab

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPeerSurvivesArbitraryMessages throws random but well-formed messages (any type, from
// any member, with small random fields, the peer's own session when it has one) and
// random ticks and Persisted reports at single peers. A peer must never panic on peer input:
// its own invariants are checked inside every Handle. The phases reached are counted so the
// test cannot pass by never leaving election. ZABKIT_SEED=N replays one seed, ZABKIT_SEEDS=N
// runs N, -short a fifth.
func TestPeerSurvivesArbitraryMessages(t *testing.T) {
	reached := map[string]int{}
	seedList := seeds(t, 1500)
	for _, seed := range seedList {
		r := rand.New(rand.NewPCG(seed, 9))
		p := newTestPeer(t, PeerID(1+r.IntN(3)), Recovered{AcceptedEpoch: 2, CurrentEpoch: 2, Log: txns(zx(1, 1), zx(2, 1), zx(2, 2))})
		now, session := Time(0), uint64(0)
		var in Input
		func() {
			defer func() {
				if e := recover(); e != nil {
					t.Fatalf("seed %d: expected the peer to survive any well-formed input; it panicked on %#v: %v\nreproduce: ZABKIT_SEED=%d go test ./zab -run TestPeerSurvivesArbitraryMessages",
						seed, in, e, seed)
				}
			}()
			for range 200 {
				now += Time(r.IntN(30))
				switch r.IntN(4) {
				case 0:
					in = Tick{}
				case 1:
					in = Persisted{ID: p.persist.issued}
				default:
					in = Receive{Message{Type: MessageType(1 + r.IntN(int(msgTypeEnd)-1)), From: PeerID(1 + r.IntN(3)), To: p.cfg.ID,
						Epoch: Epoch(r.IntN(4)), Zxid: zx(Epoch(r.IntN(4)), uint32(r.IntN(4))), PrevZxid: zx(Epoch(r.IntN(4)), uint32(r.IntN(4))),
						Session: session, Round: uint64(r.IntN(3)), Leader: PeerID(1 + r.IntN(3)), State: Role(1 + r.IntN(3)),
						AcceptedEpoch: Epoch(r.IntN(4)), CurrentEpoch: Epoch(r.IntN(4)), Flags: uint8(r.IntN(4)), Data: []byte{byte(r.IntN(3))}}}
				}
				for _, o := range p.Handle(now, in) {
					switch o := o.(type) {
					case Send:
						if o.Message.Session != 0 {
							session = o.Message.Session
						}
					case StateChanged:
						reached[fmt.Sprintf("%v/%v", o.Role, o.Phase)]++
					}
				}
			}
		}()
	}
	t.Logf("%d seeds; phases reached: %v", len(seedList), reached)
	if len(seedList) < 100 {
		return // a replayed seed or a short sweep need not reach every phase
	}
	for _, s := range []string{"FOLLOWING/SYNCHRONIZATION", "LEADING/DISCOVERY"} {
		require.Positive(t, reached[s], "random input never reached %s in %d seeds: %v", s, len(seedList), reached)
	}
}
