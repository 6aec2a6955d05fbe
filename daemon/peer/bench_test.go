package peer

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/zabkit/zabkit/zab"
	"github.com/zabkit/zabkit/zab/node"
)

// BenchmarkSend measures one-way throughput of PROPOSAL-sized messages from server 2 to
// server 1 over loopback, as messages per second, with a send queue large enough that
// nothing is dropped.
//
//	go test ./daemon/peer -run X -bench Send
func BenchmarkSend(b *testing.B) {
	for _, dataBytes := range []int{100, 4096} {
		b.Run(fmt.Sprintf("data=%dB", dataBytes), func(b *testing.B) {
			ln1, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			ln2, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			one, err := New(Config{ID: 1, Peers: map[zab.PeerID]string{2: ln2.Addr().String()}, Logger: quiet}, ln1)
			if err != nil {
				b.Fatal(err)
			}
			defer one.Close()
			two, err := New(Config{ID: 2, Peers: map[zab.PeerID]string{1: ln1.Addr().String()},
				SendQueueMessagesMax: 1 << 20, Logger: quiet}, ln2)
			if err != nil {
				b.Fatal(err)
			}
			defer two.Close()
			m := node.Message{Kind: node.KindZab, From: 2, To: 1, Zab: zab.Message{Type: zab.MsgProposal, From: 2, To: 1, Epoch: 1, Zxid: 1 << 32, Data: make([]byte, dataBytes)}}
			b.SetBytes(int64(dataBytes))
			b.ResetTimer()
			start := time.Now()
			for i := range b.N {
				m.Zab.Zxid = zab.Zxid(1<<32 | uint64(i+1))
				two.Send(m)
			}
			timeout := time.After(time.Minute)
			for i := range b.N {
				select {
				case got := <-one.Receive():
					if got.Zab.Zxid != zab.Zxid(1<<32|uint64(i+1)) {
						b.Fatalf("message %d has zxid %v", i, got.Zab.Zxid)
					}
				case <-timeout:
					b.Fatalf("only %d of %d messages arrived within a minute (dropped %d)", i, b.N, two.Stats(1).Dropped)
				}
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
		})
	}
}
