package tree

import (
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/stretchr/testify/assert"
	"github.com/zabkit/zabkit/zab/wire"
)

// The reference model's own versions of the rules the tree implements elsewhere (path checks,
// ACL fixup and matching, the op code a multi gives a create, the order a closing session's
// ephemerals go in). Each is written the way the Java source states it, as directly as
// possible and without sharing code with the tree, so that a bug in the tree's version shows up
// as a model mismatch instead of being copied into the expectation.

// refValidPath is PathUtils.validatePath walked over UTF-16 code units as Java does, one
// character at a time with the previous one in hand.
func refValidPath(path string) bool {
	if path == "" || path[0] != '/' {
		return false
	}
	if path == "/" {
		return true
	}
	if path[len(path)-1] == '/' {
		return false
	}
	chars := utf16.Encode([]rune(path)) // bytes that are not UTF-8 become U+FFFD, as in Java
	last := uint16('/')
	for i := 1; i < len(chars); i++ {
		c := chars[i]
		atEnd := i+1 == len(chars) || chars[i+1] == '/'
		switch {
		case c == 0:
			return false
		case c == '/' && last == '/':
			return false // empty node name
		case c == '.' && last == '.' && chars[i-2] == '/' && atEnd:
			return false // ".."
		case c == '.' && last == '/' && atEnd:
			return false // "."
		case c > 0 && c <= 0x1f, c >= 0x7f && c <= 0x9f, c >= 0xd800 && c <= 0xf8ff, c >= 0xfff0:
			return false
		}
		last = c
	}
	return true
}

// refSystemPath names the nodes no delete may remove.
func refSystemPath(path string) bool {
	return path == "/" || path == "/zookeeper" || path == "/zookeeper/quota" || path == "/zookeeper/config"
}

// refJavaSplit is len(s.split(sep)) in Java: split, then drop trailing empty strings, except
// that splitting "" gives [""].
func refJavaSplit(s, sep string) int {
	if s == "" {
		return 1
	}
	parts := strings.Split(s, sep)
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	return len(parts)
}

// refIPv4 is IPAuthenticationProvider.v4addr2Bytes: four dot-separated ints in 0..255.
func refIPv4(text string) (netip.Addr, bool) {
	parts := strings.Split(text, ".")
	if len(parts) != 4 {
		return netip.Addr{}, false
	}
	var b [4]byte
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil || v < 0 || v > 255 {
			return netip.Addr{}, false
		}
		b[i] = byte(v)
	}
	return netip.AddrFrom4(b), true
}

// refIPPrefix parses an ip ACL id "a.b.c.d[/bits]" (IPAuthenticationProvider.isValid).
func refIPPrefix(spec string) (netip.Prefix, bool) {
	host, bitsText, hasBits := strings.Cut(spec, "/")
	addr, ok := refIPv4(host)
	if !ok {
		return netip.Prefix{}, false
	}
	bits := 32
	if hasBits {
		n, err := strconv.Atoi(bitsText)
		if err != nil || n < 0 || n > 32 {
			return netip.Prefix{}, false
		}
		bits = n
	}
	return netip.PrefixFrom(addr, bits).Masked(), true
}

// refMatches is the server provider's matches(id, aclExpr) for the schemes that have one.
func refMatches(scheme, have, want string) bool {
	switch scheme {
	case "digest":
		return have == want
	case "ip":
		prefix, ok := refIPPrefix(want)
		client, okClient := refIPv4(have)
		return ok && okClient && prefix.Contains(client)
	}
	return false // no provider: ZooKeeperServer.checkACL skips the entry
}

// refPermitted is ZooKeeperServer.checkACL as a yes/no.
func refPermitted(acl []wire.ACL, perm wire.Perms, ids []wire.Id) bool {
	if len(acl) == 0 {
		return true
	}
	for _, id := range ids {
		if id.Scheme == "super" {
			return true
		}
	}
	for _, a := range acl {
		if a.Perms&perm == 0 {
			continue
		}
		if a.ID == (wire.Id{Scheme: "world", ID: "anyone"}) {
			return true
		}
		for _, id := range ids {
			if id.Scheme == a.ID.Scheme && refMatches(a.ID.Scheme, id.ID, a.ID.ID) {
				return true
			}
		}
	}
	return false
}

// refFixupACL is PrepRequestProcessor.fixupACL with its removeDuplicates scan.
func refFixupACL(acl []wire.ACL, ids []wire.Id) ([]wire.ACL, wire.Err) {
	var unique []wire.ACL
	for _, a := range acl {
		seen := false
		for _, u := range unique {
			seen = seen || u == a
		}
		if !seen {
			unique = append(unique, a)
		}
	}
	if len(unique) == 0 {
		return nil, wire.ErrInvalidACL
	}
	var out []wire.ACL
	for _, a := range unique {
		switch a.ID.Scheme {
		case "world":
			if a.ID.ID != "anyone" {
				return nil, wire.ErrInvalidACL // no "world" provider validates anything else
			}
			out = append(out, a)
		case "auth":
			added := false
			for _, id := range ids {
				if id.Scheme == "digest" { // the only provider whose isAuthenticated is true
					out = append(out, wire.ACL{Perms: a.Perms, ID: id})
					added = true
				}
			}
			if !added {
				return nil, wire.ErrInvalidACL
			}
		case "digest":
			if refJavaSplit(a.ID.ID, ":") != 2 {
				return nil, wire.ErrInvalidACL
			}
			out = append(out, a)
		case "ip":
			if _, ok := refIPPrefix(a.ID.ID); !ok {
				return nil, wire.ErrInvalidACL
			}
			out = append(out, a)
		default:
			return nil, wire.ErrInvalidACL
		}
	}
	return out, wire.ErrOK
}

// refMultiOp is what Apache ZooKeeper 3.8.0 makes of a create-family sub-op of a multi:
// MultiOperationRecord.deserialize calls Op.create, which picks the op from the create mode
// (CreateMode.fromFlag(flags, PERSISTENT)), and PrepRequestProcessor then casts the op's
// record to the op's request type. unmarshallable is true when that cast fails: the op is
// createTTL but its record a plain CreateRequest.
func refMultiOp(typ wire.OpCode, body wire.Record) (op wire.OpCode, record wire.Record, unmarshallable bool) {
	opOfMode := func(flags wire.CreateMode) wire.OpCode {
		switch flags {
		case 5, 6:
			return wire.OpCreateTTL
		case 4:
			return wire.OpCreateContainer
		}
		return wire.OpCreate // 0-3, and any unknown value through the PERSISTENT fallback
	}
	switch typ {
	case wire.OpCreate, wire.OpCreate2, wire.OpCreateContainer:
		r := body.(*wire.CreateRequest)
		op := opOfMode(r.Flags)
		return op, r, op == wire.OpCreateTTL
	case wire.OpCreateTTL:
		r := body.(*wire.CreateTTLRequest)
		if op := opOfMode(r.Flags); op != wire.OpCreateTTL {
			return op, &wire.CreateRequest{Path: r.Path, Data: r.Data, ACL: r.ACL, Flags: r.Flags}, false
		}
		return wire.OpCreateTTL, r, false
	}
	return typ, body, false
}

// refJavaHash is String.hashCode over UTF-16 code units, spread as HashMap.hash does.
func refJavaHash(s string) uint32 {
	var h int32
	for _, u := range utf16.Encode([]rune(s)) {
		h = 31*h + int32(u)
	}
	return uint32(h) ^ uint32(h)>>16
}

// refHashSet runs a java.util.HashSet<String>'s table: a key goes to the end of its bucket,
// and when an insertion passes three quarters full the table doubles, each old bucket in turn
// handing its keys, in order, to their new buckets (HashMap.resize keeps that order).
type refHashSet struct {
	table [][]string
	size  int
}

func newRefHashSet(buckets int) *refHashSet { return &refHashSet{table: make([][]string, buckets)} }

func (s *refHashSet) add(key string) {
	b := refJavaHash(key) & uint32(len(s.table)-1)
	s.table[b] = append(s.table[b], key)
	s.size++
	if float64(s.size) > 0.75*float64(len(s.table)) {
		old := s.keys()
		s.table = make([][]string, 2*len(s.table))
		for _, k := range old {
			b := refJavaHash(k) & uint32(len(s.table)-1)
			s.table[b] = append(s.table[b], k)
		}
	}
}

// keys is the iteration order: bucket by bucket.
func (s *refHashSet) keys() []string {
	var out []string
	for _, b := range s.table {
		out = append(out, b...)
	}
	return out
}

// refCloseOrder is the order a closing session's ephemerals are deleted in by Apache 3.8.0:
// the iteration order of a clone (HashMap.clone: a table of tableSizeFor((int)(n/0.75f + 1))
// buckets filled in the original's iteration order) of the session's HashSet, which was
// filled in creation order from 16 buckets. Ephemerals created by one multi share a czxid and
// are taken in path order, as the tree takes them.
func refCloseOrder(created []string) []string {
	set := newRefHashSet(16)
	for _, p := range created {
		set.add(p)
	}
	buckets := 1
	for buckets < int(float32(set.size)/0.75+1) {
		buckets *= 2
	}
	clone := newRefHashSet(buckets)
	for _, p := range set.keys() {
		clone.add(p)
	}
	return clone.keys()
}

// TestModelRulesMatchTheReference: the model's rules give the answers Apache ZooKeeper gave
// or its source states, on the same vectors the tree's own tests use, so a model mismatch
// points at the tree rather than at the model.
func TestModelRulesMatchTheReference(t *testing.T) {
	for _, p := range []string{"/", "/a", "/a/b", "/...", "/.a", "/a.", "/a b", "/é", "/\u00a0", "/\ufeff", "/a-0000000001"} {
		assert.True(t, refValidPath(p), "%q is a valid path", p)
	}
	for _, p := range []string{"", "a", "//", "/a/", "/a//b", "/.", "/..", "/a/./b", "/a/../b", "/a\x00", "/\x01", "/\x1f",
		"/\x7f", "/\u0085", "/\u009f", "/\ud7ff\ue000", "/\uf8ff", "/\ufff0", "/\uffff", "/\U0001F600", "/\xff"} {
		assert.False(t, refValidPath(p), "%q is not a valid path", p)
	}
	// Apache 3.8.0's close orders (TestJavaCloseOrderIsApaches).
	assert.Equal(t, []string{"/ordtest0/a/0000000001", "/ordtest0/0000000000", "/ordtest0/a/s-0000000002"},
		refCloseOrder([]string{"/ordtest0/0000000000", "/ordtest0/a/0000000001", "/ordtest0/a/s-0000000002"}))
	assert.Equal(t, []string{"/ordtest1/e2", "/ordtest1/e1", "/ordtest1/e5", "/ordtest1/e4", "/ordtest1/e3", "/ordtest1/x", "/ordtest1/y"},
		refCloseOrder([]string{"/ordtest1/e1", "/ordtest1/e2", "/ordtest1/e3", "/ordtest1/e4", "/ordtest1/e5", "/ordtest1/x", "/ordtest1/y"}))
	assert.Equal(t, []string{"/ordtest2/p", "/ordtest2/q"}, refCloseOrder([]string{"/ordtest2/q", "/ordtest2/p"}))

	fixed, err := refFixupACL([]wire.ACL{OpenACL[0], OpenACL[0], {Perms: 5, ID: wire.Id{Scheme: "auth"}}},
		[]wire.Id{{Scheme: "ip", ID: "1.2.3.4"}, aliceID, {Scheme: "super"}})
	assert.Equal(t, wire.ErrOK, err)
	assert.Equal(t, []wire.ACL{OpenACL[0], {Perms: 5, ID: aliceID}}, fixed)
	for _, id := range []wire.Id{{Scheme: "world", ID: "everyone"}, {Scheme: "digest", ID: "nocolon"}, {Scheme: "digest", ID: "a:b:c"},
		{Scheme: "digest", ID: "user:"}, {Scheme: "ip", ID: "10.0.0"}, {Scheme: "ip", ID: "10.0.0.256"}, {Scheme: "ip", ID: "::1"},
		{Scheme: "sasl", ID: "x"}, {}} {
		_, err := refFixupACL([]wire.ACL{{Perms: 1, ID: id}}, aliceIDs)
		assert.Equal(t, wire.ErrInvalidACL, err, "%+v is an invalid ACL id", id)
	}
	ip := func(spec string) []wire.ACL {
		return []wire.ACL{{Perms: wire.PermRead, ID: wire.Id{Scheme: "ip", ID: spec}}}
	}
	from := func(addr string) []wire.Id { return []wire.Id{{Scheme: "ip", ID: addr}} }
	assert.True(t, refPermitted(ip("10.0.0.0/24"), wire.PermRead, from("10.0.0.77")))
	assert.False(t, refPermitted(ip("10.0.0.0/24"), wire.PermRead, from("10.0.1.77")))
	assert.True(t, refPermitted(ip("172.16.0.0/12"), wire.PermRead, from("172.31.255.1")))
	assert.False(t, refPermitted(ip("0.0.0.0/0"), wire.PermRead, from("::1")))
	assert.True(t, refPermitted(aliceAll, wire.PermWrite, aliceIDs))
	assert.False(t, refPermitted(aliceAll, wire.PermWrite, bobIDs))
	assert.True(t, refPermitted(nil, wire.PermAdmin, nil))
}
