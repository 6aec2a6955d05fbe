package wire

// The decoding budget. The rule is that decoding never allocates more than the declared
// packet limit: jute.maxbuffer (0xfffff) plus the allowance ZooKeeper adds for "extra fields"
// (BinaryInputArchive.checkLength accepts a length up to maxBuffer + extraMaxBuffer). Checking
// each length against the bytes left in the frame is not enough for that: an empty ustring is
// 4 wire bytes but a 16-byte string header in a []string, an empty ACL is 12 wire bytes but a
// 40-byte ACL value, a check op inside multi is 17 wire bytes but a MultiOp slot plus a
// CheckVersionRequest. So every Decoder carries a budget and charges, before allocating, an
// upper bound of what the Go allocator takes for each element it makes; a frame whose elements
// do not fit is malformed (DecodeRequest answers MarshallingError, as ZooKeeper answers a record
// its checkLength refuses).

// DecodeAllowanceBytes is what a decode may allocate beyond the larger of its payload and
// FrameBytesMaxDefault: Apache ZooKeeper 3.8.0's extraMaxBuffer, whose default
// (zookeeper.jute.maxbuffer.extrasize unset) is jute.maxbuffer itself; the 1024 bytes older
// releases hard-coded are only its floor now. A smaller allowance refuses frames the reference
// takes: the data of a create at the frame limit is rounded up by the allocator to just past
// 0xfffff, leaving nothing for a 300-byte path and its ACL, and a setWatches or getChildren of
// short paths (16 bytes of string header each for a 4-byte length) needs up to twice its
// frame.
const DecodeAllowanceBytes = FrameBytesMaxDefault

// decodeFixedBytes is the part of DecodeAllowanceBytes kept for what the Decoder does not
// charge: the Decoder itself, the top-level record, the Request or RequestError, and the text
// of the first failure. TestDecodeAllocatesWithinTheLimit measures it.
const decodeFixedBytes = 768

// DecodeBytesMax is the most that DecodeRequest, DecodeReply, DecodeConnectRequest or
// DecodeConnectResponse allocate, counting every byte the Go heap hands out for the result and
// for the error, for a payload of payloadBytes: max(payloadBytes, FrameBytesMaxDefault) +
// DecodeAllowanceBytes, 0x1ffffe bytes for any frame the default limit admits. A host with a
// larger frame limit gets a larger budget, so any frame it accepts of plain data (a setData of
// a whole frame) still decodes.
func DecodeBytesMax(payloadBytes int) int {
	return max(payloadBytes, FrameBytesMaxDefault) + DecodeAllowanceBytes
}

// In-memory sizes of the values the decoders allocate per element, on 64-bit platforms
// (a string header is 16 bytes, a slice header 24, an interface 16). TestHeapSizes checks them
// against reflect, so a new field cannot make the budget lie.
const (
	stringHeaderBytes = 16
	aclBytes          = 40 // Perms, padding, two strings
	clientInfoBytes   = 32 // two strings
	multiOpBytes      = 24 // OpCode, padding, Record interface
	multiResultBytes  = 24 // OpCode, Err, Record interface
)

// Allocation granularity of the Go heap: objects up to 32 KiB come from size classes, larger
// ones take whole 8 KiB pages.
const (
	smallObjectBytesMax = 32 << 10
	pageBytes           = 8 << 10
)

// heapBytes is an upper bound of what the Go allocator takes for an object of n bytes. Size
// classes up to 128 bytes are multiples of 16 or 24 (so rounding up to 16 covers them); above,
// up to 32 KiB, a class wastes less than a quarter of the request (the worst is 6913 -> 8192);
// above that the object is rounded up to whole pages.
func heapBytes(n int) int {
	switch {
	case n <= 0:
		return 0
	case n <= 128:
		return (n + 15) &^ 15
	case n <= smallObjectBytesMax:
		return n + n/4
	default:
		return (n + pageBytes - 1) &^ (pageBytes - 1)
	}
}

// charge takes an allocation of n bytes (already rounded by heapBytes) from the budget. It
// returns false, after recording a failure, when the budget cannot pay; the caller must then
// not allocate.
func (d *Decoder) charge(n int, what string) bool {
	if d.err != nil {
		return false
	}
	if n > d.heapBytesLeft {
		d.fail("%s needs %d bytes of memory, %d left of the %d a frame of %d bytes may take",
			what, n, d.heapBytesLeft, DecodeBytesMax(len(d.buf)), len(d.buf))
		return false
	}
	d.heapBytesLeft -= n
	return true
}

// chargeElems charges a slice of count elements of elemBytes each. count is already known to
// fit in the frame, so the product cannot overflow.
func (d *Decoder) chargeElems(count, elemBytes int, what string) bool {
	return d.charge(heapBytes(count*elemBytes), what)
}
