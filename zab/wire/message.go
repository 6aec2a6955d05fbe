package wire

import (
	"errors"
	"fmt"
)

// Request is one decoded client request frame after the handshake.
type Request struct {
	Header RequestHeader
	Body   Record // nil for ping (11), closeSession (-11) and whoAmI (107)
}

// Reply is one decoded server frame after the handshake: a reply or a notification.
type Reply struct {
	Header ReplyHeader
	Body   Record // nil when Header.Err != 0 and for ops without a response record
}

// RequestError says why a request frame could not be decoded and what the reference server
// does about it (zk-protocol.md §3.5, §7.1). Use errors.As to get it from DecodeRequest.
type RequestError struct {
	// Header is the request's header; meaningful only when Reply is not ErrOK.
	Header RequestHeader
	// Reply is the error code to send in ReplyHeader(Header.Xid, zxid, Reply) with no body, or
	// ErrOK when nothing is sent.
	Reply Err
	// Close says the connection must be closed (after the reply, if any).
	Close bool
	// Cause is the decoding failure; it wraps ErrMalformed unless the op code is unknown.
	Cause error
}

func (e *RequestError) Error() string {
	return fmt.Sprintf("wire: request xid %d type %d: reply %d, close %t: %v",
		e.Header.Xid, e.Header.Type, e.Reply, e.Close, e.Cause)
}

func (e *RequestError) Unwrap() error { return e.Cause }

// ErrUnknownOp is the Cause of a RequestError for an op code the server does not serve.
var ErrUnknownOp = errors.New("wire: unknown or internal op code")

// requestBody returns an empty request record for op, nil for the ops without a request
// record, and known = false for op codes a client may not send. The reference is Apache
// ZooKeeper 3.8.0 (conformance/README.md): check (13) is accepted outside multi (3.8.6's
// Request.isValid refuses it, zk-protocol.md §3.5), the internal createSession (-10) is
// refused, and deleteContainer (20) is answered BadArguments by DecodeRequest.
func requestBody(op OpCode) (body Record, known bool) {
	switch op {
	case OpCheck:
		return &CheckVersionRequest{}, true
	case OpCreate, OpCreate2, OpCreateContainer:
		return &CreateRequest{}, true
	case OpCreateTTL:
		return &CreateTTLRequest{}, true
	case OpDelete:
		return &DeleteRequest{}, true
	case OpExists:
		return &ExistsRequest{}, true
	case OpGetData:
		return &GetDataRequest{}, true
	case OpSetData:
		return &SetDataRequest{}, true
	case OpGetACL:
		return &GetACLRequest{}, true
	case OpSetACL:
		return &SetACLRequest{}, true
	case OpGetChildren:
		return &GetChildrenRequest{}, true
	case OpGetChildren2:
		return &GetChildren2Request{}, true
	case OpSync:
		return &SyncRequest{}, true
	case OpMulti, OpMultiRead:
		return &MultiRequest{}, true
	case OpReconfig:
		return &ReconfigRequest{}, true
	case OpCheckWatches:
		return &CheckWatchesRequest{}, true
	case OpRemoveWatches:
		return &RemoveWatchesRequest{}, true
	case OpAuth:
		return &AuthPacket{}, true
	case OpSetWatches:
		return &SetWatches{}, true
	case OpSASL:
		return &GetSASLRequest{}, true
	case OpGetEphemerals:
		return &GetEphemeralsRequest{}, true
	case OpGetAllChildrenNumber:
		return &GetAllChildrenNumberRequest{}, true
	case OpSetWatches2:
		return &SetWatches2{}, true
	case OpAddWatch:
		return &AddWatchRequest{}, true
	case OpPing, OpCloseSession, OpWhoAmI:
		return nil, true
	}
	return nil, false
}

// replyBody returns an empty response record for a successful reply to op, nil for the ops
// whose reply has no record, and known = false for op codes no reply answers
// (zk-protocol.md §4.2).
func replyBody(op OpCode) (body Record, known bool) {
	switch op {
	case OpCreate:
		return &CreateResponse{}, true
	case OpCreate2, OpCreateContainer, OpCreateTTL:
		return &Create2Response{}, true
	case OpExists:
		return &ExistsResponse{}, true
	case OpGetData, OpReconfig:
		return &GetDataResponse{}, true
	case OpSetData:
		return &SetDataResponse{}, true
	case OpGetACL:
		return &GetACLResponse{}, true
	case OpSetACL:
		return &SetACLResponse{}, true
	case OpGetChildren:
		return &GetChildrenResponse{}, true
	case OpGetChildren2:
		return &GetChildren2Response{}, true
	case OpSync:
		return &SyncResponse{}, true
	case OpMulti, OpMultiRead:
		return &MultiResponse{}, true
	case OpSASL:
		return &SetSASLResponse{}, true
	case OpGetEphemerals:
		return &GetEphemeralsResponse{}, true
	case OpGetAllChildrenNumber:
		return &GetAllChildrenNumberResponse{}, true
	case OpAddWatch:
		return &ErrorResponse{}, true
	case OpWhoAmI:
		return &WhoAmIResponse{}, true
	case OpDelete, OpCheck, OpPing, OpCheckWatches, OpRemoveWatches, OpAuth, OpSetWatches,
		OpSetWatches2, OpCloseSession:
		return nil, true
	}
	return nil, false
}

// requestBodyMatches reports whether body has the type requestBody(op) decodes. It is a type
// switch rather than a call of requestBody so that encoding allocates nothing; a test keeps
// the two tables in agreement.
func requestBodyMatches(op OpCode, body Record) bool {
	switch body.(type) {
	case nil:
		return op == OpPing || op == OpCloseSession || op == OpWhoAmI
	case *CreateRequest:
		return op == OpCreate || op == OpCreate2 || op == OpCreateContainer
	case *CreateTTLRequest:
		return op == OpCreateTTL
	case *DeleteRequest:
		return op == OpDelete
	case *CheckVersionRequest:
		return op == OpCheck
	case *ExistsRequest:
		return op == OpExists
	case *GetDataRequest:
		return op == OpGetData
	case *SetDataRequest:
		return op == OpSetData
	case *GetACLRequest:
		return op == OpGetACL
	case *SetACLRequest:
		return op == OpSetACL
	case *GetChildrenRequest:
		return op == OpGetChildren
	case *GetChildren2Request:
		return op == OpGetChildren2
	case *SyncRequest:
		return op == OpSync
	case *MultiRequest:
		return op == OpMulti || op == OpMultiRead
	case *ReconfigRequest:
		return op == OpReconfig
	case *CheckWatchesRequest:
		return op == OpCheckWatches
	case *RemoveWatchesRequest:
		return op == OpRemoveWatches
	case *AuthPacket:
		return op == OpAuth
	case *SetWatches:
		return op == OpSetWatches
	case *GetSASLRequest:
		return op == OpSASL
	case *GetEphemeralsRequest:
		return op == OpGetEphemerals
	case *GetAllChildrenNumberRequest:
		return op == OpGetAllChildrenNumber
	case *SetWatches2:
		return op == OpSetWatches2
	case *AddWatchRequest:
		return op == OpAddWatch
	}
	return false
}

// replyBodyMatches reports whether body has the type replyBody(op) decodes (a type switch for
// the same reason as requestBodyMatches).
func replyBodyMatches(op OpCode, body Record) bool {
	switch body.(type) {
	case nil:
		switch op {
		case OpDelete, OpCheck, OpPing, OpCheckWatches, OpRemoveWatches, OpAuth, OpSetWatches,
			OpSetWatches2, OpCloseSession:
			return true
		}
		return false
	case *CreateResponse:
		return op == OpCreate
	case *Create2Response:
		return op == OpCreate2 || op == OpCreateContainer || op == OpCreateTTL
	case *ExistsResponse:
		return op == OpExists
	case *GetDataResponse:
		return op == OpGetData || op == OpReconfig
	case *SetDataResponse:
		return op == OpSetData
	case *GetACLResponse:
		return op == OpGetACL
	case *SetACLResponse:
		return op == OpSetACL
	case *GetChildrenResponse:
		return op == OpGetChildren
	case *GetChildren2Response:
		return op == OpGetChildren2
	case *SyncResponse:
		return op == OpSync
	case *MultiResponse:
		return op == OpMulti || op == OpMultiRead
	case *SetSASLResponse:
		return op == OpSASL
	case *GetEphemeralsResponse:
		return op == OpGetEphemerals
	case *GetAllChildrenNumberResponse:
		return op == OpGetAllChildrenNumber
	case *ErrorResponse:
		return op == OpAddWatch
	case *WhoAmIResponse:
		return op == OpWhoAmI
	}
	return false
}

// DecodeRequest decodes a request frame's payload (without its length prefix). On failure the
// error is a *RequestError that tells the server what to do, as the reference server does:
//   - fewer than 8 bytes: the header cannot be read; close without replying.
//   - an op code outside requestBody: reply Unimplemented (-6) and close
//     (UnimplementedRequestProcessor).
//   - a malformed auth (100) or sasl (102) body: close without replying (processPacket decodes
//     those itself and lets the IOException close the connection).
//   - any other malformed body: reply MarshallingError (-5), keep the connection.
//   - deleteContainer (20): reply BadArguments (-8), keep the connection (see below).
//
// Bytes after a complete body are ignored, as ZooKeeper's record readers ignore them.
func DecodeRequest(payload []byte) (Request, error) {
	d := NewDecoder(payload)
	var req Request
	req.Header.decodeFrom(d)
	if d.err != nil {
		return Request{}, &RequestError{Close: true, Cause: d.err}
	}
	if req.Header.Type == OpDeleteContainer {
		// Apache 3.8.0 takes a deleteContainer request's whole body as the path (the form its
		// ContainerManager builds), so a client's jute-framed body never names a valid path:
		// BadArguments, and the connection stays open.
		return Request{}, &RequestError{Header: req.Header, Reply: ErrBadArguments,
			Cause: fmt.Errorf("%w: deleteContainer (20) is the leader's own", ErrUnknownOp)}
	}
	body, known := requestBody(req.Header.Type)
	if !known {
		return Request{}, &RequestError{Header: req.Header, Reply: ErrUnimplemented, Close: true,
			Cause: fmt.Errorf("%w: %d", ErrUnknownOp, req.Header.Type)}
	}
	if body != nil {
		body.decodeFrom(d)
	}
	if d.err == nil {
		if m, ok := body.(*MultiRequest); ok && len(m.Ops) > 0 && m.Ops[0].IsRead() != (req.Header.Type == OpMultiRead) {
			d.fail("op %d carries sub-op type %d", req.Header.Type, m.Ops[0].Type)
		}
	}
	if d.err != nil {
		if req.Header.Type == OpAuth || req.Header.Type == OpSASL {
			return Request{}, &RequestError{Header: req.Header, Close: true, Cause: d.err}
		}
		return Request{}, &RequestError{Header: req.Header, Reply: ErrMarshallingError, Cause: d.err}
	}
	req.Body = body
	return req, nil
}

// AppendRequest appends a request frame (length prefix, header, body) to buf. A body that is
// not the record of h.Type is a caller bug: panic.
func AppendRequest(buf []byte, h RequestHeader, body Record) []byte {
	if !requestBodyMatches(h.Type, body) {
		panic(fmt.Sprintf("wire: request type %d with body %T", h.Type, body))
	}
	e, start := beginFrame(buf)
	e.Int(h.Xid)
	e.Int(int32(h.Type))
	if body != nil {
		body.encodeTo(&e)
	}
	return endFrame(&e, start)
}

// AppendReply appends a reply frame to buf. Only a successful reply carries a body: when
// h.Err != 0 clients skip the body, so sending one would desynchronise nobody but is not what
// the reference does; a failed multi is a successful reply (err 0) whose results carry the
// failure (zk-protocol.md §3.1, §10.3). A body with h.Err != 0, or a body that is not the
// response record of op, is a caller bug: panic.
func AppendReply(buf []byte, op OpCode, h ReplyHeader, body Record) []byte {
	if h.Err != ErrOK && body != nil {
		panic(fmt.Sprintf("wire: reply xid %d err %d with body %T", h.Xid, h.Err, body))
	}
	if h.Err == ErrOK && !replyBodyMatches(op, body) {
		panic(fmt.Sprintf("wire: reply to op %d with body %T", op, body))
	}
	return appendReplyFrame(buf, h, body)
}

// NotificationHeader is the ReplyHeader of every watch notification (zk-protocol.md §8.1).
var NotificationHeader = ReplyHeader{Xid: XidNotification, Zxid: -1, Err: ErrOK}

// AppendNotification appends a watch notification frame: ReplyHeader(-1, -1, 0) + ev.
func AppendNotification(buf []byte, ev WatcherEvent) []byte {
	e, start := beginFrame(buf)
	NotificationHeader.encodeTo(&e)
	ev.encodeTo(&e)
	return endFrame(&e, start)
}

// DecodeReply decodes a server frame's payload for a client that sent op with the reply's
// xid. A notification (xid -1) is decoded as a WatcherEvent whatever op is. The body is read
// only when the header's err is 0, as every client does. Errors wrap ErrMalformed, or
// ErrUnknownOp for an op no reply answers; trailing bytes are an error.
func DecodeReply(payload []byte, op OpCode) (Reply, error) {
	d := NewDecoder(payload)
	var rep Reply
	rep.Header.decodeFrom(d)
	var body Record
	switch {
	case d.err != nil:
	case rep.Header.Xid == XidNotification:
		body = &WatcherEvent{}
	case rep.Header.Err != ErrOK:
	default:
		var known bool
		if body, known = replyBody(op); !known {
			return Reply{}, fmt.Errorf("%w: reply to %d", ErrUnknownOp, op)
		}
	}
	if body != nil {
		body.decodeFrom(d)
	}
	d.end("reply")
	if d.err != nil {
		return Reply{}, d.err
	}
	rep.Body = body
	return rep, nil
}

// DecodeConnectRequest decodes the first frame of a connection. Both the 44-byte form (go-zk)
// and the 45-byte form with the readOnly byte are accepted (zk-protocol.md §2.1). Errors wrap
// ErrMalformed; the server closes the connection without replying.
func DecodeConnectRequest(payload []byte) (ConnectRequest, error) {
	d := NewDecoder(payload)
	var r ConnectRequest
	r.decodeFrom(d)
	if d.err != nil {
		return ConnectRequest{}, d.err
	}
	return r, nil
}

// AppendConnectRequest appends a ConnectRequest frame (44 or 45 bytes of payload for a
// 16-byte password, depending on HasReadOnly).
func AppendConnectRequest(buf []byte, r *ConnectRequest) []byte {
	e, start := beginFrame(buf)
	r.encodeTo(&e)
	return endFrame(&e, start)
}

// AppendConnectResponse appends a ConnectResponse frame. Set r.HasReadOnly to the request's
// HasReadOnly: the body is then 37 bytes instead of 36 (zk-protocol.md §2.2).
func AppendConnectResponse(buf []byte, r *ConnectResponse) []byte {
	e, start := beginFrame(buf)
	r.encodeTo(&e)
	return endFrame(&e, start)
}

// DecodeConnectResponse decodes the first server frame of a connection (36 or 37 bytes for a
// 16-byte password). Errors wrap ErrMalformed; trailing bytes after the readOnly byte are an
// error.
func DecodeConnectResponse(payload []byte) (ConnectResponse, error) {
	d := NewDecoder(payload)
	var r ConnectResponse
	r.decodeFrom(d)
	d.end("ConnectResponse")
	if d.err != nil {
		return ConnectResponse{}, d.err
	}
	return r, nil
}
