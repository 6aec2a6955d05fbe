package tree

import (
	"slices"
	"unicode/utf16"

	"github.com/zabkit/zabkit/zab/wire"
)

// SortAuthIDs puts a connection's auth ids in the order Apache ZooKeeper 3.8.0 iterates them:
// its ServerCnxn keeps them in a hash set, so whoAmI lists them, and a create with an "auth"
// ACL stores the digest ids, in hash-bucket order rather than the order they were added
// (TestTranscripts observed [digest:bob ip:127.0.0.1 digest:alice] after auth bob, auth
// alice). The bucket of an id is Java's hash of Id (the jute record's hashCode over scheme
// and id), spread as HashMap.hash does, masked by the table size (16 buckets, doubled each
// time the set would pass three quarters full); ids of one bucket keep their insertion
// order. ids is sorted in place; its order before the call is the insertion order.
func SortAuthIDs(ids []wire.Id) {
	buckets := uint32(16)
	for len(ids) > int(buckets/4*3) {
		buckets *= 2
	}
	bucket := func(id wire.Id) uint32 {
		h := 37*(37*17+javaStringHash(id.Scheme)) + javaStringHash(id.ID)
		return (h ^ h>>16) & (buckets - 1)
	}
	slices.SortStableFunc(ids, func(a, b wire.Id) int { return int(bucket(a)) - int(bucket(b)) })
}

// javaStringHash is String.hashCode: s[0]*31^(n-1) + … + s[n-1] over UTF-16 code units, in
// int32 arithmetic (kept as uint32, whose wrap-around is the same bits). Bytes that are not
// UTF-8 become U+FFFD, as Java's decoder turns them into the replacement character.
func javaStringHash(s string) uint32 {
	var h uint32
	for _, u := range utf16.Encode([]rune(s)) {
		h = 31*h + uint32(u)
	}
	return h
}
