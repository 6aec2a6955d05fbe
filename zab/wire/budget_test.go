package wire

import (
	"fmt"
	"math"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// heapAllocBytes is what f allocates on the Go heap (runtime.MemStats.TotalAlloc), the least
// of three runs so that an allocation by another goroutine of the test binary does not count.
func heapAllocBytes(f func()) uint64 {
	runtime.GC()
	best := uint64(math.MaxUint64)
	for range 3 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		f()
		runtime.ReadMemStats(&after)
		best = min(best, after.TotalAlloc-before.TotalAlloc)
	}
	return best
}

// fill repeats part until the payload would exceed FrameBytesMaxDefault once tail is added.
func fill(head, part, tail []byte) []byte {
	p := append([]byte{}, head...)
	for len(p)+len(part)+len(tail) <= FrameBytesMaxDefault {
		p = append(p, part...)
	}
	return append(p, tail...)
}

// vectorOf is a vector count followed by count copies of elem.
func vectorOf(count int, elem []byte) []byte {
	return cat(be32(int32(count)), []byte(strings.Repeat(string(elem), count)))
}

// frameOfEmptyStrings is a setWatches whose data watches are as many empty ustrings as fit
// in a frame: 4 wire bytes each, 16 bytes of string header in memory (the audit's first frame).
func frameOfEmptyStrings() []byte {
	head := cat(hdr(1, OpSetWatches), make([]byte, 8))
	count := (FrameBytesMaxDefault - len(head) - 12) / 4
	return cat(head, vectorOf(count, be32(0)), be32(0), be32(0))
}

// frameOfEmptyACLs is a setACL of as many ACL{perms, "", ""} as fit (the audit's third frame).
func frameOfEmptyACLs() []byte {
	head := cat(hdr(1, OpSetACL), str("/a"))
	count := (FrameBytesMaxDefault - len(head) - 8) / 12
	return cat(head, vectorOf(count, cat(be32(31), be32(0), be32(0))), be32(-1))
}

// TestDecodeAllocatesWithinTheLimit is the rule: whatever the frame, decoding it
// allocates at most DecodeBytesMax(len(payload)) = max(len, 0xfffff) + 0xfffff bytes
// (jute.maxbuffer plus Apache 3.8.0's default extraMaxBuffer). The refused frames are the ones
// whose small wire elements grow more than that in memory (the audit measured 4.0x for
// setWatches of empty strings, 9.1x for a multi of checks, 3.3x for setACL of empty ACLs);
// the accepted ones are real-world frames that must keep decoding.
func TestDecodeAllocatesWithinTheLimit(t *testing.T) {
	realPaths := make([]string, 10000)
	for i := range realPaths {
		realPaths[i] = fmt.Sprintf("/app/service-%02d/locks/lock-%010d", i%50, i)
	}
	bigData := AppendRequest(nil, RequestHeader{Xid: 1, Type: OpSetData},
		&SetDataRequest{Path: "/", Data: make([]byte, FrameBytesMaxDefault-21), Version: -1})[4:]
	acls := make([]ACL, 1000)
	for i := range acls {
		acls[i] = ACL{Perms: PermAll, ID: Id{Scheme: "digest", ID: fmt.Sprintf("user%d:HXmFC1Fbu4y1+KkO7Rqz8GSW/kA=", i)}}
	}
	creates := &MultiRequest{}
	for i := range 1000 {
		creates.Ops = append(creates.Ops, MultiOp{Type: OpCreate, Body: &CreateRequest{
			Path: fmt.Sprintf("/jobs/job-%d", i), Data: make([]byte, 100), ACL: acls[:1]}})
	}
	// A create at the frame limit with a long path and two ACL entries (conformance's
	// DataAtLimit on its 300-byte edge path): the data alone rounds up past 0xfffff.
	longPath := "/conformance-1234/" + strings.Repeat("x", 300)
	twoACLs := []ACL{acls[0], {Perms: PermRead, ID: Id{Scheme: "world", ID: "anyone"}}}
	createOverhead := len(AppendRequest(nil, RequestHeader{Xid: 1, Type: OpCreate}, &CreateRequest{Path: longPath, Data: []byte{}, ACL: twoACLs})) - 4
	createAtLimit := AppendRequest(nil, RequestHeader{Xid: 1, Type: OpCreate},
		&CreateRequest{Path: longPath, Data: make([]byte, FrameBytesMaxDefault-createOverhead), ACL: twoACLs})[4:]
	// A reconnecting client's setWatches filling a frame with 16-byte lock paths.
	var lockPaths []string
	for i := 0; 8+4+len(lockPaths)*20+20+8 <= FrameBytesMaxDefault; i++ {
		lockPaths = append(lockPaths, fmt.Sprintf("/lock-%010d", i))
	}
	multiOf := func(op []byte) []byte {
		return fill(hdr(1, OpMulti), op, mh(-1, true, -1))
	}

	requests := []struct {
		name    string
		payload []byte
		refused bool
	}{
		{"setWatches of empty strings", frameOfEmptyStrings(), true},
		{"multi of checks", multiOf(cat(mh(OpCheck, false, -1), be32(-1), be32(0))), true},
		{"setACL of empty ACLs", frameOfEmptyACLs(), true},
		{"multi of empty creates", multiOf(cat(mh(OpCreate, false, -1), be32(0), be32(-1), be32(-1), be32(0))), true},
		{"multi of empty createTTLs", multiOf(cat(mh(OpCreateTTL, false, -1), be32(0), be32(-1), be32(-1), be32(0), make([]byte, 8))), true},
		{"multi of getData", multiOf(cat(mh(OpGetData, false, -1), be32(0), []byte{0})), true},
		{"path of bytes that are not UTF-8", cat(hdr(1, OpSync), str(strings.Repeat("\xff", FrameBytesMaxDefault-12))), true},
		{"setWatches of 10k real paths", AppendRequest(nil, RequestHeader{Xid: 1, Type: OpSetWatches},
			&SetWatches{RelativeZxid: 5, DataWatches: realPaths})[4:], false},
		{"setData of a whole frame", bigData, false},
		{"create with 1000 digest ACLs", AppendRequest(nil, RequestHeader{Xid: 1, Type: OpCreate},
			&CreateRequest{Path: "/a", ACL: acls})[4:], false},
		{"multi of 1000 creates", AppendRequest(nil, RequestHeader{Xid: 1, Type: OpMulti}, creates)[4:], false},
		{"create at the frame limit with a 318-byte path and two ACL entries", createAtLimit, false},
		{"setWatches filling a frame with 16-byte paths", AppendRequest(nil, RequestHeader{Xid: 1, Type: OpSetWatches},
			&SetWatches{RelativeZxid: 5, DataWatches: lockPaths})[4:], false},
	}
	for _, tc := range requests {
		t.Run(tc.name, func(t *testing.T) {
			require.LessOrEqual(t, len(tc.payload), FrameBytesMaxDefault, "the test frame must be one the frame reader accepts")
			var err error
			allocated := heapAllocBytes(func() { _, err = DecodeRequest(tc.payload) })
			limit := DecodeBytesMax(len(tc.payload))
			t.Logf("%d-byte payload: %d bytes allocated (%.2fx), limit %d, err %v",
				len(tc.payload), allocated, float64(allocated)/float64(len(tc.payload)), limit, err)
			require.LessOrEqual(t, allocated, uint64(limit),
				"DecodeRequest of a %d-byte %s allocated %d bytes (%.2fx), want at most %d (go test -run 'TestDecodeAllocatesWithinTheLimit' ./zab/wire)",
				len(tc.payload), tc.name, allocated, float64(allocated)/float64(len(tc.payload)), limit)
			if !tc.refused {
				require.NoError(t, err, "%s must decode", tc.name)
				return
			}
			var reqErr *RequestError
			require.ErrorAs(t, err, &reqErr, "%s must be refused: it cannot be held in %d bytes", tc.name, limit)
			require.ErrorIs(t, err, ErrMalformed)
			require.Equal(t, ErrMarshallingError, reqErr.Reply, "a refused body is answered as a malformed one")
			require.False(t, reqErr.Close, "a refused body keeps the connection, as a malformed one")
			require.Contains(t, err.Error(), "bytes of memory", "the error says why")
		})
	}

	replies := []struct {
		name    string
		op      OpCode
		payload []byte
		refused bool
	}{
		{"getChildren of empty names", OpGetChildren, cat(be32(1), make([]byte, 12), vectorOf((FrameBytesMaxDefault-20)/4, be32(0))), true},
		{"getACL of empty ACLs", OpGetACL, cat(be32(1), make([]byte, 12), vectorOf((FrameBytesMaxDefault-88)/12, make([]byte, 12)), make([]byte, 68)), true},
		{"whoAmI of empty identities", OpWhoAmI, cat(be32(1), make([]byte, 12), vectorOf((FrameBytesMaxDefault-20)/8, make([]byte, 8))), true},
		{"multi of delete results", OpMulti, fill(cat(be32(1), make([]byte, 12)), mh(OpDelete, false, 0), mh(-1, true, -1)), true},
		{"multi of getData results", OpMultiRead, fill(cat(be32(1), make([]byte, 12)), cat(mh(OpGetData, false, 0), be32(0), make([]byte, 68)), mh(-1, true, -1)), false},
		{"getChildren of 16-byte names filling a frame", OpGetChildren, AppendReply(nil, OpGetChildren, ReplyHeader{Xid: 1},
			&GetChildrenResponse{Children: lockPaths})[4:], false},
	}
	for _, tc := range replies {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			allocated := heapAllocBytes(func() { _, err = DecodeReply(tc.payload, tc.op) })
			limit := DecodeBytesMax(len(tc.payload))
			require.LessOrEqual(t, allocated, uint64(limit),
				"DecodeReply of a %d-byte %s allocated %d bytes (%.2fx), want at most %d (go test -run 'TestDecodeAllocatesWithinTheLimit' ./zab/wire)",
				len(tc.payload), tc.name, allocated, float64(allocated)/float64(len(tc.payload)), limit)
			if !tc.refused {
				require.NoError(t, err, "%s must decode", tc.name)
				return
			}
			require.ErrorIs(t, err, ErrMalformed, "%s cannot be held in %d bytes", tc.name, limit)
		})
	}
}

// TestHeapBytesBoundsTheAllocator: the budget is only as good as heapBytes, which must never
// be less than what the Go heap takes for an object of that size. Each size is allocated 64
// times and the total compared.
func TestHeapBytesBoundsTheAllocator(t *testing.T) {
	var sizes []int
	for n := 1; n <= 256; n++ {
		sizes = append(sizes, n)
	}
	for n := 257; n <= 3*smallObjectBytesMax; n += 127 { // 127: odd, so every class is hit off its edge
		sizes = append(sizes, n)
	}
	const count = 16
	keep := make([][]byte, count)
	for _, n := range sizes {
		// One measure, a second only if the first looks too big (another goroutine of the
		// test binary may have allocated meanwhile): ReadMemStats stops the world.
		allocated := uint64(math.MaxUint64)
		for try := 0; try < 2 && allocated > uint64(count*heapBytes(n)); try++ {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for i := range keep {
				keep[i] = make([]byte, n)
			}
			runtime.ReadMemStats(&after)
			allocated = after.TotalAlloc - before.TotalAlloc
		}
		require.LessOrEqual(t, allocated, uint64(count*heapBytes(n)),
			"%d objects of %d bytes took %d bytes, heapBytes(%d) = %d claims at most %d each",
			count, n, allocated, n, heapBytes(n), heapBytes(n))
	}
	runtime.KeepAlive(keep)
}

// TestHeapSizes: the element sizes the budget charges are the sizes of the Go types.
func TestHeapSizes(t *testing.T) {
	sizes := []struct {
		name    string
		charged int
		value   any
	}{
		{"string", stringHeaderBytes, ""},
		{"ACL", aclBytes, ACL{}},
		{"ClientInfo", clientInfoBytes, ClientInfo{}},
		{"MultiOp", multiOpBytes, MultiOp{}},
		{"MultiResult", multiResultBytes, MultiResult{}},
	}
	for _, s := range sizes {
		require.Equal(t, int(reflect.TypeOf(s.value).Size()), s.charged, "in-memory size of %s", s.name)
	}
	for op := OpCode(-20); op <= 120; op++ {
		if body := multiOpBody(op); body != nil {
			require.Equal(t, int(reflect.TypeOf(body).Elem().Size()), multiOpRecordBytes(op),
				"multiOpRecordBytes(%d) for %T", op, body)
		}
		if body, ok := multiResultBody(op); ok {
			size := 0
			if body != nil {
				size = int(reflect.TypeOf(body).Elem().Size())
			}
			require.Equal(t, size, multiResultRecordBytes(op), "multiResultRecordBytes(%d) for %T", op, body)
		}
	}
}
