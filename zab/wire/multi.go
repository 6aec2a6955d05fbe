package wire

import "fmt"

// multi (14) and multiRead (22) framing, zk-protocol.md §10: every op and every result is
// preceded by a MultiHeader, and the list ends with MultiHeader(-1, done = true, -1).

// multiOpBytesMin is the smallest encoding of one op or result: a MultiHeader (4+1+4). It
// bounds the decoding loops by the frame size.
const multiOpBytesMin = 9

// multiEnd terminates both the op list and the result list.
var multiEnd = MultiHeader{Type: OpError, Done: true, Err: ErrSystemError}

// IsRead reports whether op is a sub-op multiRead (22) accepts: getChildren or getData.
func (op MultiOp) IsRead() bool { return op.Type == OpGetChildren || op.Type == OpGetData }

// multiOpBody returns an empty request record for a sub-op type, or nil if that type may not
// appear inside multi / multiRead. The list is MultiOperationRecord.deserialize's: the create
// family, delete, setData, check, getChildren, getData. deleteContainer (20) is not in it.
func multiOpBody(t OpCode) Record {
	switch t {
	case OpCreate, OpCreate2, OpCreateContainer:
		return &CreateRequest{}
	case OpCreateTTL:
		return &CreateTTLRequest{}
	case OpDelete:
		return &DeleteRequest{}
	case OpSetData:
		return &SetDataRequest{}
	case OpCheck:
		return &CheckVersionRequest{}
	case OpGetChildren:
		return &GetChildrenRequest{}
	case OpGetData:
		return &GetDataRequest{}
	}
	return nil
}

// multiResultBody returns an empty result record for a successful result type, nil for the
// types without a record (delete, check), and ok = false for a type that cannot be a result.
// Error results (type -1) are handled by the caller. The list is MultiResponse's.
func multiResultBody(t OpCode) (body Record, ok bool) {
	switch t {
	case OpCreate:
		return &CreateResponse{}, true
	case OpCreate2:
		return &Create2Response{}, true
	case OpSetData:
		return &SetDataResponse{}, true
	case OpGetChildren:
		return &GetChildrenResponse{}, true
	case OpGetData:
		return &GetDataResponse{}, true
	case OpDelete, OpCheck:
		return nil, true
	}
	return nil, false
}

// multiOpRecordBytes is the in-memory size of the record multiOpBody(t) allocates, and
// multiResultRecordBytes that of multiResultBody(t)'s, for the decoding budget, which is
// charged before the record is made (TestHeapSizes checks them against reflect).
func multiOpRecordBytes(t OpCode) int {
	switch t {
	case OpCreate, OpCreate2, OpCreateContainer:
		return 72 // string, two slices, flags
	case OpCreateTTL:
		return 80 // CreateRequest's fields and a long
	case OpSetData:
		return 48 // string, slice, version
	}
	return 24 // delete, check, getChildren, getData: a string and an int or a bool
}

func multiResultRecordBytes(t OpCode) int {
	switch t {
	case OpCreate:
		return 16 // string
	case OpCreate2:
		return 88 // string, Stat
	case OpSetData:
		return 72 // Stat
	case OpGetChildren:
		return 24 // slice
	case OpGetData:
		return 96 // slice, Stat
	}
	return 0 // delete and check have no record
}

// growMultiList returns the capacity a multi op or result list of length n grows to, charging
// the new backing array of elemBytes per element; ok is false when the budget cannot pay. The
// lists grow by doubling, as append would, but each growth is paid for first: every array the
// decode ever allocates counts, not only the last.
func growMultiList(d *Decoder, n, elemBytes int, what string) (capacity int, ok bool) {
	capacity = max(4, 2*n)
	return capacity, d.chargeElems(capacity, elemBytes, what)
}

// multiOpMatches reports whether body is the request record of sub-op type t.
func multiOpMatches(t OpCode, body Record) bool {
	switch body.(type) {
	case *CreateRequest:
		return t == OpCreate || t == OpCreate2 || t == OpCreateContainer
	case *CreateTTLRequest:
		return t == OpCreateTTL
	case *DeleteRequest:
		return t == OpDelete
	case *SetDataRequest:
		return t == OpSetData
	case *CheckVersionRequest:
		return t == OpCheck
	case *GetChildrenRequest:
		return t == OpGetChildren
	case *GetDataRequest:
		return t == OpGetData
	}
	return false
}

// multiResultMatches reports whether body is the result record of successful result type t.
func multiResultMatches(t OpCode, body Record) bool {
	switch body.(type) {
	case nil:
		return t == OpDelete || t == OpCheck
	case *CreateResponse:
		return t == OpCreate
	case *Create2Response:
		return t == OpCreate2
	case *SetDataResponse:
		return t == OpSetData
	case *GetChildrenResponse:
		return t == OpGetChildren
	case *GetDataResponse:
		return t == OpGetData
	}
	return false
}

// encodeTo writes the ops, each after MultiHeader(type, false, -1), then the terminator, as
// the Java client does. An op whose Body does not match its Type is a caller bug: panic.
func (r *MultiRequest) encodeTo(e *Encoder) {
	for i, op := range r.Ops {
		if !multiOpMatches(op.Type, op.Body) {
			panic(fmt.Sprintf("wire: multi op %d has type %d and body %T", i, op.Type, op.Body))
		}
		h := MultiHeader{Type: op.Type, Done: false, Err: ErrSystemError}
		h.encodeTo(e)
		op.Body.encodeTo(e)
	}
	multiEnd.encodeTo(e)
}

// decodeFrom reads ops until a header with done = true, as the reference server does: the
// err field of every header and the type of the terminator are ignored. A sub-op type outside
// multiOpBody, or read and write ops mixed in one request, is malformed ("Mixing different kind
// of ops" in MultiOperationRecord), which the server answers with MarshallingError.
func (r *MultiRequest) decodeFrom(d *Decoder) {
	r.Ops = nil
	var h MultiHeader
	h.decodeFrom(d)
	for opsMax := d.Remaining()/multiOpBytesMin + 1; d.err == nil && !h.Done; opsMax-- {
		if opsMax == 0 {
			d.fail("multi op list longer than its frame")
			return
		}
		if !d.charge(heapBytes(multiOpRecordBytes(h.Type)), "multi op record") {
			break
		}
		body := multiOpBody(h.Type)
		if body == nil {
			d.fail("multi op type %d is not allowed", h.Type)
			return
		}
		op := MultiOp{Type: h.Type, Body: body}
		if len(r.Ops) > 0 && r.Ops[0].IsRead() != op.IsRead() {
			d.fail("multi mixes read and write ops")
			return
		}
		body.decodeFrom(d)
		if len(r.Ops) == cap(r.Ops) {
			capacity, ok := growMultiList(d, len(r.Ops), multiOpBytes, "multi op list")
			if !ok {
				break
			}
			r.Ops = append(make([]MultiOp, 0, capacity), r.Ops...)
		}
		r.Ops = append(r.Ops, op)
		h.decodeFrom(d)
	}
	if d.err != nil {
		r.Ops = nil
	}
}

// encodeTo writes each result after MultiHeader(type, false, err) where err is the op's code
// for an error result and 0 otherwise, then the terminator (MultiResponse.serialize). An error
// result carries ErrorResponse(err) as its record. A result whose Body does not match its Type
// is a caller bug: panic.
func (r *MultiResponse) encodeTo(e *Encoder) {
	for i, res := range r.Results {
		if res.Type == OpError {
			if res.Body != nil {
				panic(fmt.Sprintf("wire: multi error result %d has a body %T", i, res.Body))
			}
			h := MultiHeader{Type: OpError, Done: false, Err: res.Err}
			h.encodeTo(e)
			e.Int(int32(res.Err))
			continue
		}
		if res.Err != ErrOK || !multiResultMatches(res.Type, res.Body) {
			panic(fmt.Sprintf("wire: multi result %d has type %d, err %d and body %T",
				i, res.Type, res.Err, res.Body))
		}
		h := MultiHeader{Type: res.Type, Done: false, Err: ErrOK}
		h.encodeTo(e)
		if res.Body != nil {
			res.Body.encodeTo(e)
		}
	}
	multiEnd.encodeTo(e)
}

// decodeFrom reads results until a header with done = true. For an error result the code is
// taken from its ErrorResponse record, as MultiResponse.deserialize does.
func (r *MultiResponse) decodeFrom(d *Decoder) {
	r.Results = nil
	var h MultiHeader
	h.decodeFrom(d)
	for resultsMax := d.Remaining()/multiOpBytesMin + 1; d.err == nil && !h.Done; resultsMax-- {
		if resultsMax == 0 {
			d.fail("multi result list longer than its frame")
			return
		}
		res := MultiResult{Type: h.Type}
		if h.Type == OpError {
			res.Err = Err(d.Int())
		} else {
			if !d.charge(heapBytes(multiResultRecordBytes(h.Type)), "multi result record") {
				break
			}
			body, ok := multiResultBody(h.Type)
			if !ok {
				d.fail("multi result type %d is not allowed", h.Type)
				return
			}
			if body != nil {
				body.decodeFrom(d)
			}
			res.Body = body
		}
		if len(r.Results) == cap(r.Results) {
			capacity, ok := growMultiList(d, len(r.Results), multiResultBytes, "multi result list")
			if !ok {
				break
			}
			r.Results = append(make([]MultiResult, 0, capacity), r.Results...)
		}
		r.Results = append(r.Results, res)
		h.decodeFrom(d)
	}
	if d.err != nil {
		r.Results = nil
	}
}
