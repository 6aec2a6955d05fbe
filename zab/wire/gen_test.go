package wire

import (
	"fmt"

	"pgregory.net/rapid"
)

// Generators of every record for the round-trip properties. Request records may carry null
// buffers and null vectors (nil); response records carry null buffers but never null vectors,
// because the encoder writes a nil response vector as empty (zk-protocol.md §1.3).

var genText = rapid.OneOf(
	rapid.Just(""),
	rapid.SampledFrom([]string{"/", "/foo", "/zookeeper/config", "/a/b/c-0000000001", "world", "anyone"}),
	rapid.String(),
	// Raw bytes as a Java peer holds them: decoding replaces ill-formed UTF-8 (javaString),
	// so only its results round-trip unchanged.
	rapid.Custom(func(t *rapid.T) string { return javaString(rapid.SliceOfN(rapid.Byte(), 0, 40).Draw(t, "raw")) }),
)

// genBuffer draws a null buffer or a non-nil one, possibly empty.
var genBuffer = rapid.Custom(func(t *rapid.T) []byte {
	if rapid.IntRange(0, 4).Draw(t, "null") == 0 {
		return nil
	}
	b := rapid.SliceOfN(rapid.Byte(), 0, 80).Draw(t, "bytes")
	if b == nil {
		b = []byte{}
	}
	return b
})

func genSliceNullable[T any](elem *rapid.Generator[T], nullable bool) *rapid.Generator[[]T] {
	return rapid.Custom(func(t *rapid.T) []T {
		if nullable && rapid.IntRange(0, 4).Draw(t, "null") == 0 {
			return nil
		}
		xs := rapid.SliceOfN(elem, 0, 6).Draw(t, "elems")
		if xs == nil {
			xs = []T{}
		}
		return xs
	})
}

var genStat = rapid.Custom(func(t *rapid.T) Stat {
	return Stat{
		Czxid:          rapid.Int64().Draw(t, "czxid"),
		Mzxid:          rapid.Int64().Draw(t, "mzxid"),
		Ctime:          rapid.Int64().Draw(t, "ctime"),
		Mtime:          rapid.Int64().Draw(t, "mtime"),
		Version:        rapid.Int32().Draw(t, "version"),
		Cversion:       rapid.Int32().Draw(t, "cversion"),
		Aversion:       rapid.Int32().Draw(t, "aversion"),
		EphemeralOwner: rapid.Int64().Draw(t, "ephemeralOwner"),
		DataLength:     rapid.Int32().Draw(t, "dataLength"),
		NumChildren:    rapid.Int32().Draw(t, "numChildren"),
		Pzxid:          rapid.Int64().Draw(t, "pzxid"),
	}
})

var genACL = rapid.Custom(func(t *rapid.T) ACL {
	return ACL{
		Perms: Perms(rapid.Int32().Draw(t, "perms")),
		ID:    Id{Scheme: genText.Draw(t, "scheme"), ID: genText.Draw(t, "id")},
	}
})

func genStrings(nullable bool) *rapid.Generator[[]string] { return genSliceNullable(genText, nullable) }
func genACLs(nullable bool) *rapid.Generator[[]ACL]       { return genSliceNullable(genACL, nullable) }

var (
	genInt32 = rapid.Int32()
	genInt64 = rapid.Int64()
	genBool  = rapid.Bool()
)

// genRequestBodyFor draws the request record of op (nil for ops without one).
func genRequestBodyFor(t *rapid.T, op OpCode) Record {
	switch op {
	case OpCreate, OpCreate2, OpCreateContainer:
		return &CreateRequest{Path: genText.Draw(t, "path"), Data: genBuffer.Draw(t, "data"),
			ACL: genACLs(true).Draw(t, "acl"), Flags: CreateMode(genInt32.Draw(t, "flags"))}
	case OpCreateTTL:
		return &CreateTTLRequest{Path: genText.Draw(t, "path"), Data: genBuffer.Draw(t, "data"),
			ACL: genACLs(true).Draw(t, "acl"), Flags: CreateMode(genInt32.Draw(t, "flags")),
			TTLMs: genInt64.Draw(t, "ttl")}
	case OpDelete:
		return &DeleteRequest{Path: genText.Draw(t, "path"), Version: genInt32.Draw(t, "version")}
	case OpExists:
		return &ExistsRequest{Path: genText.Draw(t, "path"), Watch: genBool.Draw(t, "watch")}
	case OpGetData:
		return &GetDataRequest{Path: genText.Draw(t, "path"), Watch: genBool.Draw(t, "watch")}
	case OpSetData:
		return &SetDataRequest{Path: genText.Draw(t, "path"), Data: genBuffer.Draw(t, "data"),
			Version: genInt32.Draw(t, "version")}
	case OpGetACL:
		return &GetACLRequest{Path: genText.Draw(t, "path")}
	case OpSetACL:
		return &SetACLRequest{Path: genText.Draw(t, "path"), ACL: genACLs(true).Draw(t, "acl"),
			Version: genInt32.Draw(t, "version")}
	case OpGetChildren:
		return &GetChildrenRequest{Path: genText.Draw(t, "path"), Watch: genBool.Draw(t, "watch")}
	case OpGetChildren2:
		return &GetChildren2Request{Path: genText.Draw(t, "path"), Watch: genBool.Draw(t, "watch")}
	case OpSync:
		return &SyncRequest{Path: genText.Draw(t, "path")}
	case OpCheck:
		return &CheckVersionRequest{Path: genText.Draw(t, "path"), Version: genInt32.Draw(t, "version")}
	case OpMulti, OpMultiRead:
		return genMultiRequest(t, op == OpMultiRead)
	case OpReconfig:
		return &ReconfigRequest{JoiningServers: genText.Draw(t, "joining"),
			LeavingServers: genText.Draw(t, "leaving"), NewMembers: genText.Draw(t, "members"),
			CurConfigID: genInt64.Draw(t, "configId")}
	case OpCheckWatches:
		return &CheckWatchesRequest{Path: genText.Draw(t, "path"), Type: WatcherType(genInt32.Draw(t, "type"))}
	case OpRemoveWatches:
		return &RemoveWatchesRequest{Path: genText.Draw(t, "path"), Type: WatcherType(genInt32.Draw(t, "type"))}
	case OpAuth:
		return &AuthPacket{Type: genInt32.Draw(t, "type"), Scheme: genText.Draw(t, "scheme"),
			Auth: genBuffer.Draw(t, "auth")}
	case OpSetWatches:
		return &SetWatches{RelativeZxid: genInt64.Draw(t, "zxid"), DataWatches: genStrings(true).Draw(t, "data"),
			ExistWatches: genStrings(true).Draw(t, "exist"), ChildWatches: genStrings(true).Draw(t, "child")}
	case OpSetWatches2:
		return &SetWatches2{RelativeZxid: genInt64.Draw(t, "zxid"), DataWatches: genStrings(true).Draw(t, "data"),
			ExistWatches: genStrings(true).Draw(t, "exist"), ChildWatches: genStrings(true).Draw(t, "child"),
			PersistentWatches:          genStrings(true).Draw(t, "persistent"),
			PersistentRecursiveWatches: genStrings(true).Draw(t, "recursive")}
	case OpSASL:
		return &GetSASLRequest{Token: genBuffer.Draw(t, "token")}
	case OpGetEphemerals:
		return &GetEphemeralsRequest{PrefixPath: genText.Draw(t, "prefix")}
	case OpGetAllChildrenNumber:
		return &GetAllChildrenNumberRequest{Path: genText.Draw(t, "path")}
	case OpAddWatch:
		return &AddWatchRequest{Path: genText.Draw(t, "path"), Mode: AddWatchMode(genInt32.Draw(t, "mode"))}
	case OpPing, OpCloseSession, OpWhoAmI:
		return nil
	}
	panic(fmt.Sprintf("no request generator for op %d", op))
}

var (
	multiWriteOps = []OpCode{OpCreate, OpCreate2, OpCreateContainer, OpCreateTTL, OpDelete, OpSetData, OpCheck}
	multiReadOps  = []OpCode{OpGetChildren, OpGetData}
)

func genMultiRequest(t *rapid.T, read bool) *MultiRequest {
	kinds := multiWriteOps
	if read {
		kinds = multiReadOps
	}
	n := rapid.IntRange(0, 5).Draw(t, "ops")
	r := &MultiRequest{}
	for i := 0; i < n; i++ {
		op := rapid.SampledFrom(kinds).Draw(t, "op")
		r.Ops = append(r.Ops, MultiOp{Type: op, Body: genRequestBodyFor(t, op)})
	}
	return r
}

// genReplyBodyFor draws the response record of a successful reply to op.
func genReplyBodyFor(t *rapid.T, op OpCode) Record {
	switch op {
	case OpCreate:
		return &CreateResponse{Path: genText.Draw(t, "path")}
	case OpCreate2, OpCreateContainer, OpCreateTTL:
		return &Create2Response{Path: genText.Draw(t, "path"), Stat: genStat.Draw(t, "stat")}
	case OpExists:
		return &ExistsResponse{Stat: genStat.Draw(t, "stat")}
	case OpGetData, OpReconfig:
		return &GetDataResponse{Data: genBuffer.Draw(t, "data"), Stat: genStat.Draw(t, "stat")}
	case OpSetData:
		return &SetDataResponse{Stat: genStat.Draw(t, "stat")}
	case OpGetACL:
		return &GetACLResponse{ACL: genACLs(false).Draw(t, "acl"), Stat: genStat.Draw(t, "stat")}
	case OpSetACL:
		return &SetACLResponse{Stat: genStat.Draw(t, "stat")}
	case OpGetChildren:
		return &GetChildrenResponse{Children: genStrings(false).Draw(t, "children")}
	case OpGetChildren2:
		return &GetChildren2Response{Children: genStrings(false).Draw(t, "children"), Stat: genStat.Draw(t, "stat")}
	case OpSync:
		return &SyncResponse{Path: genText.Draw(t, "path")}
	case OpMulti, OpMultiRead:
		return genMultiResponse(t)
	case OpSASL:
		return &SetSASLResponse{Token: genBuffer.Draw(t, "token")}
	case OpGetEphemerals:
		return &GetEphemeralsResponse{Ephemerals: genStrings(false).Draw(t, "ephemerals")}
	case OpGetAllChildrenNumber:
		return &GetAllChildrenNumberResponse{TotalNumber: genInt32.Draw(t, "total")}
	case OpAddWatch:
		return &ErrorResponse{Err: Err(genInt32.Draw(t, "err"))}
	case OpWhoAmI:
		infos := genSliceNullable(rapid.Custom(func(t *rapid.T) ClientInfo {
			return ClientInfo{AuthScheme: genText.Draw(t, "scheme"), User: genText.Draw(t, "user")}
		}), false).Draw(t, "clientInfo")
		return &WhoAmIResponse{ClientInfo: infos}
	case OpDelete, OpCheck, OpPing, OpCheckWatches, OpRemoveWatches, OpAuth, OpSetWatches,
		OpSetWatches2, OpCloseSession:
		return nil
	}
	panic(fmt.Sprintf("no reply generator for op %d", op))
}

var multiResultTypes = []OpCode{OpCreate, OpCreate2, OpDelete, OpSetData, OpCheck, OpGetChildren, OpGetData, OpError}

func genMultiResponse(t *rapid.T) *MultiResponse {
	n := rapid.IntRange(0, 5).Draw(t, "results")
	r := &MultiResponse{}
	for i := 0; i < n; i++ {
		typ := rapid.SampledFrom(multiResultTypes).Draw(t, "type")
		if typ == OpError {
			code := rapid.SampledFrom([]Err{ErrOK, ErrRuntimeInconsistency, ErrNoNode, ErrNodeExists, ErrBadVersion}).Draw(t, "err")
			r.Results = append(r.Results, MultiResult{Type: OpError, Err: code})
			continue
		}
		r.Results = append(r.Results, MultiResult{Type: typ, Body: genReplyBodyFor(t, typ)})
	}
	return r
}

// requestOps are the op codes DecodeRequest accepts; replyOps those DecodeReply accepts.
var (
	requestOps = []OpCode{OpCreate, OpDelete, OpExists, OpGetData, OpSetData, OpGetACL, OpSetACL,
		OpGetChildren, OpSync, OpPing, OpGetChildren2, OpMulti, OpCreate2, OpReconfig,
		OpCheckWatches, OpRemoveWatches, OpCreateContainer, OpCreateTTL, OpMultiRead, OpAuth,
		OpSetWatches, OpSASL, OpGetEphemerals, OpGetAllChildrenNumber, OpSetWatches2, OpAddWatch,
		OpWhoAmI, OpCloseSession}
	replyOps = append(append([]OpCode{}, requestOps...), OpCheck)
)

var genConnectRequest = rapid.Custom(func(t *rapid.T) ConnectRequest {
	r := ConnectRequest{
		ProtocolVersion: genInt32.Draw(t, "protocolVersion"),
		LastZxidSeen:    genInt64.Draw(t, "lastZxidSeen"),
		TimeoutMs:       genInt32.Draw(t, "timeout"),
		SessionID:       genInt64.Draw(t, "sessionId"),
		Passwd:          genBuffer.Draw(t, "passwd"),
		HasReadOnly:     genBool.Draw(t, "hasReadOnly"),
	}
	r.ReadOnly = r.HasReadOnly && genBool.Draw(t, "readOnly")
	return r
})

var genConnectResponse = rapid.Custom(func(t *rapid.T) ConnectResponse {
	r := ConnectResponse{
		ProtocolVersion: genInt32.Draw(t, "protocolVersion"),
		TimeoutMs:       genInt32.Draw(t, "timeout"),
		SessionID:       genInt64.Draw(t, "sessionId"),
		Passwd:          genBuffer.Draw(t, "passwd"),
		HasReadOnly:     genBool.Draw(t, "hasReadOnly"),
	}
	r.ReadOnly = r.HasReadOnly && genBool.Draw(t, "readOnly")
	return r
})
