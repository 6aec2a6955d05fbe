package tree

import (
	"cmp"
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

// closeOrder lists a session's ephemerals in the order Apache ZooKeeper 3.8.0 deletes them
// when the session closes or expires, which is the order its watchers see the NodeDeleted
// events: PrepRequestProcessor takes DataTree.getEphemerals(session), a clone of the session's
// HashSet<String>, and the close txn deletes the paths in that clone's iteration order. The
// set was filled in creation order (czxid) in a table of 16 buckets doubled while it is more
// than three quarters full; the clone is re-filled in the set's iteration order into a table
// sized for its count (HashMap.putMapEntries). A set that was once larger than it is now had a
// larger table in Java; that history is not kept here, so the order can differ after more
// than 12 ephemerals of one session were deleted before it closed. Ephemerals created by one
// multi share a czxid and are taken in path order, where Java added them in op order: two of
// them that land in one bucket can come out swapped.
func (t *Tree) closeOrder(s *session) []string {
	return JavaCloseOrder(s.sortedEphemerals(), func(path string) int64 { return t.mustLookup(path).czxid })
}

// JavaCloseOrder orders a session's ephemeral paths, given each one's czxid, as closeOrder
// describes.
func JavaCloseOrder(paths []string, czxid func(path string) int64) []string {
	paths = slices.Clone(paths)
	slices.Sort(paths) // ties of czxid (one multi) in a fixed order
	created := make(map[string]int64, len(paths))
	for _, p := range paths {
		created[p] = czxid(p)
	}
	slices.SortStableFunc(paths, func(a, b string) int { return cmp.Compare(created[a], created[b]) })
	original := 16
	for len(paths) > original/4*3 {
		original *= 2
	}
	clone := tableSizeFor(int(float32(len(paths))/0.75 + 1))
	for _, buckets := range []int{original, clone} {
		slices.SortStableFunc(paths, func(a, b string) int {
			return cmp.Compare(javaBucket(a, buckets), javaBucket(b, buckets))
		})
	}
	return paths
}

// javaBucket is the bucket of a String key in a HashMap table of n buckets (HashMap.hash).
func javaBucket(key string, n int) uint32 {
	h := javaStringHash(key)
	return (h ^ h>>16) & uint32(n-1)
}

// tableSizeFor is HashMap.tableSizeFor: the smallest power of two at least c (1 for c <= 1).
func tableSizeFor(c int) int {
	n := 1
	for n < c && n < 1<<30 {
		n *= 2
	}
	return n
}
