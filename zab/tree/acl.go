package tree

import (
	"crypto/sha1"
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/zabkit/zabkit/zab/wire"
)

// Well-known ACL lists (ZooDefs.Ids, zk-protocol.md §9.7).
var (
	// OpenACL is world:anyone with every permission.
	OpenACL = []wire.ACL{{Perms: wire.PermAll, ID: wire.Id{Scheme: "world", ID: "anyone"}}}
	// ReadACL is world:anyone READ, the ACL of /zookeeper/config.
	ReadACL = []wire.ACL{{Perms: wire.PermRead, ID: wire.Id{Scheme: "world", ID: "anyone"}}}
	// CreatorAllACL grants everything to the creator's authenticated ids.
	CreatorAllACL = []wire.ACL{{Perms: wire.PermAll, ID: wire.Id{Scheme: "auth", ID: ""}}}
)

// Permitted reports whether a connection holding ids may exercise any permission bit in
// perm on a node whose ACL is acl, as ZooKeeperServer.checkACL decides (zk-protocol.md §9.6):
// an empty ACL allows everything, a super id bypasses every check, world:anyone matches
// anyone, ip ids match by address under the ACL's mask, digest ids by equality. ZooKeeper also
// skips entries whose scheme has no provider; here fixupACL refuses such entries before any
// reaches the tree, and a connection only ever holds digest, ip and super ids, so such an
// entry could not match anyway: there is nothing to skip.
func Permitted(acl []wire.ACL, perm wire.Perms, ids []wire.Id) bool {
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
		if a.ID.Scheme == "world" && a.ID.ID == "anyone" {
			return true
		}
		for _, id := range ids {
			if id.Scheme == a.ID.Scheme && idMatches(a.ID.Scheme, id.ID, a.ID.ID) {
				return true
			}
		}
	}
	return false
}

func idMatches(scheme, have, want string) bool {
	if scheme == "ip" {
		return ipMatches(have, want)
	}
	return have == want
}

// fixupACL is PrepRequestProcessor.fixupACL (zk-protocol.md §9.4): drop exact duplicates
// keeping the first, reject an empty list, keep world:anyone, expand auth into one entry per
// authenticated (digest) id of the caller, and validate every other scheme with its
// provider. The result is what getACL returns later.
func fixupACL(acl []wire.ACL, ids []wire.Id) ([]wire.ACL, wire.Err) {
	unique := uniqueACLs(acl)
	if len(unique) == 0 {
		return nil, wire.ErrInvalidACL
	}
	out := make([]wire.ACL, 0, len(unique))
	for _, a := range unique {
		switch {
		case a.ID.Scheme == "world" && a.ID.ID == "anyone":
			out = append(out, a)
		case a.ID.Scheme == "auth":
			expanded := false
			for _, id := range ids {
				// Only providers that "are authenticated" count: digest, not ip.
				if id.Scheme == "digest" {
					expanded = true
					out = append(out, wire.ACL{Perms: a.Perms, ID: id})
				}
			}
			if !expanded {
				return nil, wire.ErrInvalidACL
			}
		case a.ID.Scheme == "digest":
			if javaSplitCount(a.ID.ID, ':') != 2 {
				return nil, wire.ErrInvalidACL
			}
			out = append(out, a)
		case a.ID.Scheme == "ip":
			if _, _, ok := parseIPSpec(a.ID.ID); !ok {
				return nil, wire.ErrInvalidACL
			}
			out = append(out, a)
		default:
			return nil, wire.ErrInvalidACL
		}
	}
	return out, wire.ErrOK
}

// uniqueACLs is acl without its exact duplicates, keeping each first occurrence in order
// (PrepRequestProcessor.removeDuplicates). ZooKeeper scans the kept list for each entry, which
// is quadratic: a frame holds up to ~87k ACL entries, and that scan would stall the node loop
// for seconds, so a set of the entries seen does the same in one pass. Only membership is
// asked of the map, never its order.
func uniqueACLs(acl []wire.ACL) []wire.ACL {
	unique := make([]wire.ACL, 0, len(acl))
	seen := make(map[wire.ACL]struct{}, len(acl))
	for _, a := range acl {
		if _, dup := seen[a]; !dup {
			seen[a] = struct{}{}
			unique = append(unique, a)
		}
	}
	return unique
}

// javaSplitCount is len(s.split(sep)) in Java: trailing empty strings are removed, so
// "user:" has 1 part and ":x" has 2 (DigestAuthenticationProvider.isValid counts them).
func javaSplitCount(s string, sep byte) int {
	parts := strings.Split(s, string(sep))
	n := len(parts)
	for n > 0 && parts[n-1] == "" {
		n--
	}
	if s == "" {
		return 1 // Java: "".split(":") is [""]
	}
	return n
}

// parseIPSpec parses an ip ACL id "a.b.c.d" or "a.b.c.d/bits" (IPAuthenticationProvider,
// IPv4 only).
func parseIPSpec(spec string) (addr [4]byte, bits int, ok bool) {
	host, maskText, hasMask := strings.Cut(spec, "/")
	addr, ok = parseIPv4(host)
	if !ok {
		return addr, 0, false
	}
	bits = 32
	if hasMask {
		n, err := strconv.Atoi(maskText)
		if err != nil || n < 0 || n > 32 {
			return addr, 0, false
		}
		bits = n
	}
	return addr, bits, true
}

// parseIPv4 mirrors IPAuthenticationProvider.v4addr2Bytes: exactly four dot-separated
// decimal numbers in 0..255.
func parseIPv4(text string) ([4]byte, bool) {
	var addr [4]byte
	parts := strings.Split(text, ".")
	if len(parts) != 4 {
		return addr, false
	}
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil || v < 0 || v > 255 {
			return addr, false
		}
		addr[i] = byte(v)
	}
	return addr, true
}

// ipMatches reports whether the connection address have lies in the ACL's network want.
func ipMatches(have, want string) bool {
	addr, bits, ok := parseIPSpec(want)
	if !ok {
		return false
	}
	client, ok := parseIPv4(have)
	if !ok {
		return false
	}
	for i := 0; i < 4; i++ {
		maskBits := min(max(bits-8*i, 0), 8)
		mask := byte(0xff << (8 - maskBits))
		if maskBits == 0 {
			mask = 0
		}
		if client[i]&mask != addr[i]&mask {
			return false
		}
	}
	return true
}

// maskDigests hides the password hash of every digest id for a getACL caller without
// ADMIN (FinalRequestProcessor, zk-protocol.md §4.5).
func maskDigests(acl []wire.ACL) []wire.ACL {
	out := make([]wire.ACL, len(acl))
	for i, a := range acl {
		if a.ID.Scheme == "digest" {
			user, _, _ := strings.Cut(a.ID.ID, ":")
			a.ID.ID = user + ":x"
		}
		out[i] = a
	}
	return out
}

// DigestID is the id a digest ACL names for "user:password" credentials:
// user:BASE64(SHA1("user:password")) (DigestAuthenticationProvider.generateDigest).
func DigestID(credentials string) string {
	user, _, _ := strings.Cut(credentials, ":")
	sum := sha1.Sum([]byte(credentials))
	return user + ":" + base64.StdEncoding.EncodeToString(sum[:])
}

// DigestAuth returns the ids an auth packet with scheme "digest" adds to a connection: the
// digest id, plus super:"" when that id equals the configured super digest ("" = none).
// Digest authentication never fails on content (zk-protocol.md §9.5).
func DigestAuth(credentials []byte, superDigest string) []wire.Id {
	digest := DigestID(string(credentials))
	ids := []wire.Id{{Scheme: "digest", ID: digest}}
	if superDigest != "" && digest == superDigest {
		ids = append(ids, wire.Id{Scheme: "super", ID: ""})
	}
	return ids
}
