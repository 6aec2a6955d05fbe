package wire

import (
	"bytes"
	"testing"
)

// Benchmarks of a typical exchange: encode the request, cut and decode it (server side),
// encode the reply, cut and decode it (client side). Run with
//
//	go test ./zab/wire -run='^$' -bench=. -benchmem

var benchStat = Stat{Czxid: 0x100000002, Mzxid: 0x100000007, Ctime: 1700000000000, Mtime: 1700000001000,
	Version: 3, DataLength: 128, Pzxid: 0x100000002}

func benchExchange(b *testing.B, h RequestHeader, req Record, reply Record) {
	b.Helper()
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		buf = AppendRequest(buf[:0], h, req)
		payload, _, ok, err := CutFrame(buf, FrameBytesMaxDefault)
		if err != nil || !ok {
			b.Fatalf("CutFrame: ok %t, err %v", ok, err)
		}
		got, err := DecodeRequest(payload)
		if err != nil {
			b.Fatal(err)
		}
		buf = AppendReply(buf[:0], got.Header.Type, ReplyHeader{Xid: got.Header.Xid, Zxid: 0x100000007}, reply)
		payload, _, _, _ = CutFrame(buf, FrameBytesMaxDefault)
		if _, err := DecodeReply(payload, h.Type); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(AppendRequest(nil, h, req)) + len(buf)))
}

func BenchmarkGetDataExchange(b *testing.B) {
	benchExchange(b, RequestHeader{Xid: 42, Type: OpGetData},
		&GetDataRequest{Path: "/service/config/node-0000000042", Watch: true},
		&GetDataResponse{Data: bytes.Repeat([]byte{'x'}, 128), Stat: benchStat})
}

func BenchmarkSetDataExchange(b *testing.B) {
	benchExchange(b, RequestHeader{Xid: 43, Type: OpSetData},
		&SetDataRequest{Path: "/service/config/node-0000000042", Data: bytes.Repeat([]byte{'y'}, 128), Version: 3},
		&SetDataResponse{Stat: benchStat})
}

func BenchmarkNotificationEncode(b *testing.B) {
	buf := make([]byte, 0, 256)
	ev := WatcherEvent{Type: EventNodeDataChanged, State: StateSyncConnected, Path: "/service/config/node-0000000042"}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buf = AppendNotification(buf[:0], ev)
	}
}
