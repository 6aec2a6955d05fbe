package node

import "github.com/zabkit/zabkit/zab/wire"

// txnBytesBound bounds the encoded size of the txn a request prepares into. A txn is the
// request's content, fixed up: the only growth beyond a constant per op is the "auth" ACL
// scheme, which Prepare expands into one entry per digest id of the connection
// (PrepRequestProcessor.fixupACL). A frame under the size limit could otherwise expand into
// a txn zab must refuse, after the tree already recorded its outstanding changes.
func txnBytesBound(req wire.Request, payloadBytes int, auth []wire.Id) int {
	const envelopeBytes, perOpBytes, perACLBytes = 64, 64, 16
	digestBytes := 0
	for _, id := range auth {
		if id.Scheme == "digest" {
			digestBytes += perACLBytes + len(id.Scheme) + len(id.ID)
		}
	}
	expansion := func(acl []wire.ACL) int {
		n := 0
		for _, a := range acl {
			if a.ID.Scheme == "auth" {
				n += digestBytes
			}
		}
		return n
	}
	bound := envelopeBytes + 2*payloadBytes
	add := func(body wire.Record) {
		bound += perOpBytes
		switch r := body.(type) {
		case *wire.CreateRequest:
			bound += expansion(r.ACL)
		case *wire.CreateTTLRequest:
			bound += expansion(r.ACL)
		case *wire.SetACLRequest:
			bound += expansion(r.ACL)
		}
	}
	if m, ok := req.Body.(*wire.MultiRequest); ok {
		for _, op := range m.Ops {
			add(op.Body)
		}
	} else {
		add(req.Body)
	}
	return bound
}
