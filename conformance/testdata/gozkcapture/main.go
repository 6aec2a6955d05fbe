// Command gozkcapture records the request frames go-zookeeper/zk v1.0.4 puts on the wire and
// checks that go-zk decodes replies built by zab/wire. It lives under testdata so that it is
// not part of the module's packages (it uses net and goroutines, which zab/ forbids); the
// frames it writes are checked byte for byte by gozk_test.go. Regenerate with
//
//	go run ./conformance/testdata/gozkcapture > zab/wire/testdata/gozk_requests.txt
//
// Pings are left out of the capture because their timing is not deterministic.
package main

import (
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"reflect"
	"time"

	"github.com/go-zookeeper/zk"
	"github.com/zabkit/zabkit/zab/wire"
)

var stat = wire.Stat{Czxid: 2, Mzxid: 3, Ctime: 1700000000000, Mtime: 1700000000001, Version: 1,
	Cversion: 2, Aversion: 3, EphemeralOwner: 4, DataLength: 5, NumChildren: 2, Pzxid: 6}

// reply builds go-zk's answer to one request with zab/wire's encoder.
func reply(req wire.Request, zxid int64) []byte {
	h := wire.ReplyHeader{Xid: req.Header.Xid, Zxid: zxid}
	var body wire.Record
	switch b := req.Body.(type) {
	case *wire.CreateRequest:
		if req.Header.Type == wire.OpCreate {
			body = &wire.CreateResponse{Path: b.Path}
		} else {
			body = &wire.Create2Response{Path: b.Path, Stat: stat}
		}
	case *wire.CreateTTLRequest:
		body = &wire.Create2Response{Path: b.Path, Stat: stat}
	case *wire.GetDataRequest:
		body = &wire.GetDataResponse{Data: []byte("hello"), Stat: stat}
	case *wire.SetDataRequest:
		body = &wire.SetDataResponse{Stat: stat}
	case *wire.ExistsRequest:
		if b.Path == "/missing" {
			h.Err = wire.ErrNoNode
		} else {
			body = &wire.ExistsResponse{Stat: stat}
		}
	case *wire.GetChildren2Request:
		body = &wire.GetChildren2Response{Children: []string{"b", "c"}, Stat: stat}
	case *wire.GetACLRequest:
		body = &wire.GetACLResponse{ACL: zkACLToWire(zk.WorldACL(zk.PermAll)), Stat: stat}
	case *wire.SetACLRequest:
		body = &wire.SetACLResponse{Stat: stat}
	case *wire.SyncRequest:
		body = &wire.SyncResponse{Path: b.Path}
	case *wire.AuthPacket:
		h.Zxid = 0
	case *wire.MultiRequest:
		body = multiReply(b)
	}
	return wire.AppendReply(nil, req.Header.Type, h, body)
}

// multiReply answers a multi: all ops succeed, unless one deletes /missing, in which case the
// reply is the §10.3 failure shape.
func multiReply(m *wire.MultiRequest) *wire.MultiResponse {
	failAt := -1
	for i, op := range m.Ops {
		if d, ok := op.Body.(*wire.DeleteRequest); ok && d.Path == "/missing" {
			failAt = i
		}
	}
	r := &wire.MultiResponse{}
	for i, op := range m.Ops {
		switch {
		case failAt >= 0 && i < failAt:
			r.Results = append(r.Results, wire.MultiResult{Type: wire.OpError, Err: wire.ErrOK})
		case i == failAt:
			r.Results = append(r.Results, wire.MultiResult{Type: wire.OpError, Err: wire.ErrNoNode})
		case failAt >= 0:
			r.Results = append(r.Results, wire.MultiResult{Type: wire.OpError, Err: wire.ErrRuntimeInconsistency})
		case op.Type == wire.OpCreate:
			r.Results = append(r.Results, wire.MultiResult{Type: wire.OpCreate, Body: &wire.CreateResponse{Path: op.Body.(*wire.CreateRequest).Path}})
		case op.Type == wire.OpSetData:
			r.Results = append(r.Results, wire.MultiResult{Type: wire.OpSetData, Body: &wire.SetDataResponse{Stat: stat}})
		default:
			r.Results = append(r.Results, wire.MultiResult{Type: op.Type})
		}
	}
	return r
}

func zkACLToWire(acl []zk.ACL) []wire.ACL {
	out := make([]wire.ACL, len(acl))
	for i, a := range acl {
		out[i] = wire.ACL{Perms: wire.Perms(a.Perms), ID: wire.Id{Scheme: a.Scheme, ID: a.ID}}
	}
	return out
}

// serve plays the server for one connection, sending every non-ping request payload on frames.
func serve(conn net.Conn, frames chan<- []byte, watchFired chan<- struct{}) {
	defer conn.Close()
	fr := wire.NewFrameReader(conn, wire.FrameBytesMaxDefault)
	payload, err := fr.Next()
	check(err)
	frames <- append([]byte(nil), payload...)
	creq, err := wire.DecodeConnectRequest(payload)
	check(err)
	_, err = conn.Write(wire.AppendConnectResponse(nil, &wire.ConnectResponse{TimeoutMs: creq.TimeoutMs,
		SessionID: 0x1000000abcd0000, Passwd: make([]byte, 16), HasReadOnly: creq.HasReadOnly}))
	check(err)
	zxid := int64(10)
	for {
		payload, err := fr.Next()
		if err != nil {
			return
		}
		req, err := wire.DecodeRequest(payload)
		check(err)
		if req.Header.Type == wire.OpPing {
			_, err = conn.Write(wire.AppendReply(nil, wire.OpPing, wire.ReplyHeader{Xid: req.Header.Xid, Zxid: zxid}, nil))
			check(err)
			continue
		}
		frames <- append([]byte(nil), payload...)
		zxid++
		_, err = conn.Write(reply(req, zxid))
		check(err)
		if g, ok := req.Body.(*wire.GetDataRequest); ok && g.Watch {
			_, err = conn.Write(wire.AppendNotification(nil, wire.WatcherEvent{Type: wire.EventNodeDataChanged,
				State: wire.StateSyncConnected, Path: g.Path}))
			check(err)
			watchFired <- struct{}{}
		}
		if req.Header.Type == wire.OpCloseSession {
			close(frames)
			return
		}
	}
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "gozkcapture:", err)
		os.Exit(1)
	}
}

func expect(what string, got, want any) {
	if !reflect.DeepEqual(got, want) {
		fmt.Fprintf(os.Stderr, "gozkcapture: %s: go-zk decoded %#v, want %#v\n", what, got, want)
		os.Exit(1)
	}
}

func main() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	frames := make(chan []byte, 100)
	watchFired := make(chan struct{}, 1)
	go func() {
		conn, err := ln.Accept()
		check(err)
		serve(conn, frames, watchFired)
	}()

	c, _, err := zk.Connect([]string{ln.Addr().String()}, 30*time.Second, zk.WithLogInfo(false))
	check(err)
	world := zk.WorldACL(zk.PermAll)
	zkStat := &zk.Stat{Czxid: 2, Mzxid: 3, Ctime: 1700000000000, Mtime: 1700000000001, Version: 1,
		Cversion: 2, Aversion: 3, EphemeralOwner: 4, DataLength: 5, NumChildren: 2, Pzxid: 6}

	check(c.AddAuth("digest", []byte("user:secret")))
	p, err := c.Create("/a", []byte("data"), 0, world)
	check(err)
	expect("create path", p, "/a")
	p, err = c.Create("/a/e-", nil, zk.FlagEphemeral|zk.FlagSequence, world)
	check(err)
	expect("create path", p, "/a/e-")
	p, err = c.CreateContainer("/c", []byte{}, zk.FlagContainer, world)
	check(err)
	expect("createContainer path", p, "/c")
	p, err = c.CreateTTL("/t", []byte("x"), zk.FlagTTL, world, 90*time.Second)
	check(err)
	expect("createTTL path", p, "/t")
	data, st, err := c.Get("/a")
	check(err)
	expect("getData data", data, []byte("hello"))
	expect("getData stat", st, zkStat)
	_, _, events, err := c.GetW("/a")
	check(err)
	<-watchFired
	ev := <-events
	expect("notification", [2]any{ev.Type, ev.Path}, [2]any{zk.EventNodeDataChanged, "/a"})
	st, err = c.Set("/a", []byte("new"), 1)
	check(err)
	expect("setData stat", st, zkStat)
	ok, _, err := c.Exists("/a")
	check(err)
	expect("exists", ok, true)
	ok, _, err = c.Exists("/missing")
	check(err)
	expect("exists of a missing node", ok, false)
	children, _, err := c.Children("/a")
	check(err)
	expect("children", children, []string{"b", "c"})
	acl, _, err := c.GetACL("/a")
	check(err)
	expect("getACL", acl, world)
	_, err = c.SetACL("/a", zk.DigestACL(zk.PermRead, "user", "secret"), -1)
	check(err)
	p, err = c.Sync("/a")
	check(err)
	expect("sync", p, "/a")
	res, err := c.Multi(&zk.CreateRequest{Path: "/m", Data: []byte("1"), Acl: world},
		&zk.SetDataRequest{Path: "/m", Data: []byte("2"), Version: -1},
		&zk.CheckVersionRequest{Path: "/m", Version: 1},
		&zk.DeleteRequest{Path: "/m", Version: 1})
	check(err)
	expect("multi results", len(res), 4)
	expect("multi create result", res[0].String, "/m")
	res, err = c.Multi(&zk.CreateRequest{Path: "/x", Acl: world},
		&zk.DeleteRequest{Path: "/missing", Version: -1},
		&zk.SetDataRequest{Path: "/y", Data: []byte("z"), Version: -1})
	expect("failed multi error", err, zk.ErrNoNode)
	expect("failed multi results", len(res), 3)
	check(c.Delete("/a", -1))
	c.Close()

	n := 0
	for f := range frames {
		fmt.Printf("%02d %s\n", n, hex.EncodeToString(f))
		n++
	}
}
