package checker_test

import (
	"fmt"

	"github.com/zabkit/zabkit/checker"
	"github.com/zabkit/zabkit/zab/tree"
	"github.com/zabkit/zabkit/zab/wire"
)

// A recorder fills a History as its clients run: the committed order from any server, each
// request with call and return times, each watch event after the reply it followed. Here
// client 1's read is stale: the server answered with zxid 1.3 but with the data of 1.2.
func ExampleCheck() {
	const a, b = 0x100, 0x101
	z := func(n int64) int64 { return 1<<32 | n }
	h := &checker.History{
		Committed: []checker.CommittedTxn{
			{Zxid: z(1), Txn: tree.Txn{Type: wire.OpCreateSession, SessionID: a, TimeoutMs: 4000}},
			{Zxid: z(2), Txn: tree.Txn{Type: wire.OpCreate, SessionID: a, Cxid: 1, Path: "/k",
				Data: []byte("v0"), ACL: tree.OpenACL, TimeMs: 10}},
			{Zxid: z(3), Txn: tree.Txn{Type: wire.OpSetData, SessionID: a, Cxid: 2, Path: "/k",
				Data: []byte("v1"), Version: 1, TimeMs: 20}},
		},
		Ops: []checker.Op{
			{Client: 0, Session: a, Xid: 1, Call: 10, Return: 12, Zxid: z(2),
				Request: checker.Request{Type: wire.OpCreate, Path: "/k", Data: []byte("v0")},
				Reply:   checker.Reply{Path: "/k"}},
			{Client: 0, Session: a, Xid: 2, Call: 20, Return: 22, Zxid: z(3),
				Request: checker.Request{Type: wire.OpSetData, Path: "/k", Data: []byte("v1"), Version: -1}},
			{Client: 1, Session: b, Xid: 1, Call: 30, Return: 31, Zxid: z(3),
				Request: checker.Request{Type: wire.OpGetData, Path: "/k"},
				Reply:   checker.Reply{Data: []byte("v0")}},
		},
	}
	r := checker.Check(h, checker.Config{})
	fmt.Println(r.Failed())
	fmt.Println(r.Violations[0].Detail)
	// Output:
	// [ReadAtZxid]
	// read does not match the tree as of its zxid 1.3: data "v0", want "v1"
}
