package sim

// TraceDigester is implemented by a message payload that can digest its own content for
// the trace. The world mixes the digest of every sent and delivered payload into the trace
// hash, so a run whose messages differ only in content (a list built by ranging over a
// map, say) fails CheckDeterminism instead of passing it. A payload that is neither a
// TraceDigester nor []byte nor string is traced by id and size only.
//
// A digest must be a pure function of the payload's content: never of pointers, map
// iteration order or anything else that can change between two runs of one seed.
type TraceDigester interface {
	TraceDigest() uint64
}

// PayloadDigest is the digest the trace records for a payload: its TraceDigest, or the
// digest of its bytes when it is a []byte or a string, or 0 for any other type.
func PayloadDigest(payload any) uint64 {
	switch p := payload.(type) {
	case TraceDigester:
		return p.TraceDigest()
	case []byte:
		return DigestBytes(p)
	case string:
		return DigestString(p)
	}
	return 0
}

// DigestBytes digests b for a TraceDigest: a payload that carries its content marshaled
// (as the cluster's envelopes do) can return DigestBytes of it, mixed with its other
// fields by DigestMix.
func DigestBytes(b []byte) uint64 {
	h := mix(fnvOffset, uint64(len(b)))
	for _, c := range b {
		h ^= uint64(c)
		h *= fnvPrime
	}
	return h
}

// DigestString digests s for a TraceDigest.
func DigestString(s string) uint64 { return mixString(fnvOffset, s) }

// DigestMix folds v into the digest h, for a TraceDigest over several fields.
func DigestMix(h, v uint64) uint64 { return mix(h, v) }
