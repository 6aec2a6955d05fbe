package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// ErrMalformed is wrapped by every error a Decoder reports: truncated input, a negative
// length other than -1, a length or count that exceeds the bytes left in the frame, trailing
// bytes, or a value the record does not allow. ZooKeeper answers a malformed request body with
// MarshallingError (zk-protocol.md §7.1); use errors.Is(err, ErrMalformed).
var ErrMalformed = errors.New("wire: malformed record")

// Encoder appends jute-encoded values to a byte slice (zk-protocol.md §1.3: big-endian,
// no tags, no field counts). It never fails.
type Encoder struct {
	buf []byte
}

// NewEncoder returns an Encoder that appends to buf (which may be nil), so a caller can reuse
// one buffer for many frames.
func NewEncoder(buf []byte) *Encoder { return &Encoder{buf: buf} }

// Bytes returns everything encoded so far.
func (e *Encoder) Bytes() []byte { return e.buf }

// Int writes a jute int: 4 bytes big-endian.
func (e *Encoder) Int(v int32) { e.buf = binary.BigEndian.AppendUint32(e.buf, uint32(v)) }

// Long writes a jute long: 8 bytes big-endian.
func (e *Encoder) Long(v int64) { e.buf = binary.BigEndian.AppendUint64(e.buf, uint64(v)) }

// Bool writes a jute boolean as 0x00 or 0x01, as every writer does.
func (e *Encoder) Bool(v bool) {
	if v {
		e.buf = append(e.buf, 1)
	} else {
		e.buf = append(e.buf, 0)
	}
}

// Buffer writes a jute buffer; nil is written as the null buffer (length -1).
func (e *Encoder) Buffer(b []byte) {
	if b == nil {
		e.Int(-1)
		return
	}
	e.Int(int32(len(b)))
	e.buf = append(e.buf, b...)
}

// String writes a jute ustring. The empty string is written with length 0, never as null:
// go-zk reads string lengths as unsigned and chokes on -1 (zk-protocol.md §1.3).
func (e *Encoder) String(s string) {
	e.Int(int32(len(s)))
	e.buf = append(e.buf, s...)
}

// vectorHeader writes a vector count; a nil vector is null (-1) only when nullable is true.
// Responses pass nullable = false because the server must never send a null vector.
func (e *Encoder) vectorHeader(n int, isNil, nullable bool) {
	if isNil && nullable {
		e.Int(-1)
		return
	}
	e.Int(int32(n))
}

func (e *Encoder) strings(xs []string, nullable bool) {
	e.vectorHeader(len(xs), xs == nil, nullable)
	for _, s := range xs {
		e.String(s)
	}
}

func (e *Encoder) acls(xs []ACL, nullable bool) {
	e.vectorHeader(len(xs), xs == nil, nullable)
	for _, a := range xs {
		e.Int(int32(a.Perms))
		e.String(a.ID.Scheme)
		e.String(a.ID.ID)
	}
}

func (e *Encoder) stat(s *Stat) {
	e.Long(s.Czxid)
	e.Long(s.Mzxid)
	e.Long(s.Ctime)
	e.Long(s.Mtime)
	e.Int(s.Version)
	e.Int(s.Cversion)
	e.Int(s.Aversion)
	e.Long(s.EphemeralOwner)
	e.Int(s.DataLength)
	e.Int(s.NumChildren)
	e.Long(s.Pzxid)
}

// Decoder reads jute values from one frame. It never panics and never reads past the frame:
// the first failure is remembered (Err), and every later read returns a zero value, so record
// decoders read all their fields and check Err once. No allocation is sized by a length or
// count that exceeds the bytes left in the frame, and every allocation is first charged
// against a budget (budget.go), so decoding a frame of n bytes allocates at most
// DecodeBytesMax(n) bytes.
type Decoder struct {
	buf           []byte
	off           int
	err           error
	heapBytesLeft int
}

// NewDecoder returns a Decoder over one frame's payload (without the 4-byte length).
func NewDecoder(frame []byte) *Decoder {
	return &Decoder{buf: frame, heapBytesLeft: DecodeBytesMax(len(frame)) - decodeFixedBytes}
}

// Err returns the first decoding failure, or nil.
func (d *Decoder) Err() error { return d.err }

// Remaining returns how many bytes are left unread.
func (d *Decoder) Remaining() int { return len(d.buf) - d.off }

// Offset returns how many bytes have been read.
func (d *Decoder) Offset() int { return d.off }

// fail records the first failure with the offset where it happened.
func (d *Decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w at byte %d: %s", ErrMalformed, d.off, fmt.Sprintf(format, args...))
	}
}

// take returns the next n bytes, or nil after recording a failure if fewer remain.
func (d *Decoder) take(n int, what string) []byte {
	if d.err != nil {
		return nil
	}
	if n > d.Remaining() {
		d.fail("%s needs %d bytes, %d left", what, n, d.Remaining())
		return nil
	}
	b := d.buf[d.off : d.off+n]
	d.off += n
	return b
}

// Int reads a jute int.
func (d *Decoder) Int() int32 {
	b := d.take(4, "int")
	if b == nil {
		return 0
	}
	return int32(binary.BigEndian.Uint32(b))
}

// Long reads a jute long.
func (d *Decoder) Long() int64 {
	b := d.take(8, "long")
	if b == nil {
		return 0
	}
	return int64(binary.BigEndian.Uint64(b))
}

// Bool reads a jute boolean; like Java's DataInput.readBoolean, any non-zero byte is true.
func (d *Decoder) Bool() bool {
	b := d.take(1, "boolean")
	return b != nil && b[0] != 0
}

// length reads a length prefix: -1 is returned as is (null); other negative values and values
// larger than what is left are failures, reported before anything is allocated.
func (d *Decoder) length(what string) int {
	n := d.Int()
	if d.err != nil {
		return 0
	}
	if n == -1 {
		return -1
	}
	if n < 0 {
		d.fail("%s length %d is negative", what, n)
		return 0
	}
	if int(n) > d.Remaining() {
		d.fail("%s length %d exceeds the %d bytes left", what, n, d.Remaining())
		return 0
	}
	return int(n)
}

// Buffer reads a jute buffer; the null buffer (-1) is returned as nil, an empty one as a
// non-nil empty slice. The bytes are copied: the frame may be reused by the caller.
func (d *Decoder) Buffer() []byte {
	n := d.length("buffer")
	if d.err != nil || n < 0 || !d.charge(heapBytes(n), "buffer") {
		return nil
	}
	return append(make([]byte, 0, n), d.take(n, "buffer")...)
}

// String reads a jute ustring; the null string (-1) is returned as "" (zk-protocol.md §1.3:
// kazoo writes "" as null). Bytes are kept as sent: invalid UTF-8 is not an error here, as the
// Java reader decodes leniently; path rules are the tree's business.
func (d *Decoder) String() string {
	n := d.length("ustring")
	if d.err != nil || n <= 0 {
		return ""
	}
	b := d.take(n, "ustring")
	if d.err != nil {
		return ""
	}
	if utf8.Valid(b) {
		if !d.charge(heapBytes(n), "ustring") {
			return ""
		}
		return string(b)
	}
	size := javaStringBytes(b)
	if !d.charge(heapBytes(size), "ustring") {
		return ""
	}
	return replaceIllFormed(b, size)
}

// javaString is what a Java server makes of a ustring's bytes: jute decodes them with
// new String(bytes, UTF_8), which replaces each maximal ill-formed subsequence by U+FFFD, and
// writes them back with getBytes(UTF_8). Echoed strings (sync's path, a watched path, an
// ACL id) then carry EF BF BD where the client sent a byte that is not UTF-8 (Apache ZooKeeper
// 3.8.0 answers sync "/\xff" with "/\uFFFD": conformance TestTranscripts).
func javaString(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return replaceIllFormed(b, javaStringBytes(b))
}

// replaceIllFormed is javaString of b, which is not valid UTF-8, given its length size.
func replaceIllFormed(b []byte, size int) string {
	var out strings.Builder
	out.Grow(size) // the only allocation: String() does not copy
	for i := 0; i < len(b); {
		if b[i] < utf8.RuneSelf {
			out.WriteByte(b[i])
			i++
			continue
		}
		if r, size := utf8.DecodeRune(b[i:]); r != utf8.RuneError || size > 1 {
			out.Write(b[i : i+size])
			i += size
			continue
		}
		out.WriteRune(utf8.RuneError)
		i += maximalSubpart(b[i:])
	}
	return out.String()
}

// javaStringBytes is len(javaString(b)), computed without allocating so that the decoder can
// charge it first: a byte that is not UTF-8 becomes the three bytes of U+FFFD, so the string
// may be up to three times longer than its ustring.
func javaStringBytes(b []byte) int {
	n := 0
	for i := 0; i < len(b); {
		if b[i] < utf8.RuneSelf {
			n++
			i++
			continue
		}
		if r, size := utf8.DecodeRune(b[i:]); r != utf8.RuneError || size > 1 {
			n += size
			i += size
			continue
		}
		n += utf8.RuneLen(utf8.RuneError)
		i += maximalSubpart(b[i:])
	}
	return n
}

// maximalSubpart is the length of the longest prefix of b (which does not start with a
// well-formed character) that could begin one: Unicode's "maximal subpart", which Java's
// UTF-8 decoder replaces by a single U+FFFD. At least 1.
func maximalSubpart(b []byte) int {
	lead := b[0]
	var need int
	lo, hi := byte(0x80), byte(0xBF) // range of the second byte
	switch {
	case lead >= 0xC2 && lead <= 0xDF:
		need = 2
	case lead == 0xE0:
		need, lo = 3, 0xA0
	case lead >= 0xE1 && lead <= 0xEC, lead == 0xEE, lead == 0xEF:
		need = 3
	case lead == 0xED:
		need, hi = 3, 0x9F
	case lead == 0xF0:
		need, lo = 4, 0x90
	case lead >= 0xF1 && lead <= 0xF3:
		need = 4
	case lead == 0xF4:
		need, hi = 4, 0x8F
	default:
		return 1
	}
	n := 1
	for n < need && n < len(b) {
		c := b[n]
		if n == 1 && (c < lo || c > hi) || n > 1 && (c < 0x80 || c > 0xBF) {
			break
		}
		n++
	}
	return n
}

// vectorCount reads a vector count: -1 (null) is returned as is when nullable, and is a
// failure otherwise; a count whose elements could not fit in the bytes left, even at
// elemBytesMin each, is a failure before allocation. Response records are read with nullable
// false: the server must never send a null vector (go-zk fails on one, zk-protocol.md §1.3),
// so a client-side decoder that accepted it would hide a server bug.
func (d *Decoder) vectorCount(what string, elemBytesMin int, nullable bool) int {
	n := d.Int()
	if d.err != nil {
		return 0
	}
	if n == -1 && nullable {
		return -1
	}
	if n == -1 {
		d.fail("null vector<%s> where the protocol never sends one", what)
		return 0
	}
	if n < 0 {
		d.fail("vector<%s> count %d is negative", what, n)
		return 0
	}
	if int64(n)*int64(elemBytesMin) > int64(d.Remaining()) {
		d.fail("vector<%s> count %d cannot fit in the %d bytes left", what, n, d.Remaining())
		return 0
	}
	return int(n)
}

func (d *Decoder) strings(nullable bool) []string {
	n := d.vectorCount("ustring", 4, nullable)
	if d.err != nil || n < 0 || !d.chargeElems(n, stringHeaderBytes, "vector<ustring>") {
		return nil
	}
	xs := make([]string, n)
	for i := range xs {
		xs[i] = d.String()
	}
	if d.err != nil {
		return nil
	}
	return xs
}

func (d *Decoder) acls(nullable bool) []ACL {
	n := d.vectorCount("ACL", 12, nullable)
	if d.err != nil || n < 0 || !d.chargeElems(n, aclBytes, "vector<ACL>") {
		return nil
	}
	xs := make([]ACL, n)
	for i := range xs {
		xs[i].Perms = Perms(d.Int())
		xs[i].ID.Scheme = d.String()
		xs[i].ID.ID = d.String()
	}
	if d.err != nil {
		return nil
	}
	return xs
}

func (d *Decoder) stat(s *Stat) {
	s.Czxid = d.Long()
	s.Mzxid = d.Long()
	s.Ctime = d.Long()
	s.Mtime = d.Long()
	s.Version = d.Int()
	s.Cversion = d.Int()
	s.Aversion = d.Int()
	s.EphemeralOwner = d.Long()
	s.DataLength = d.Int()
	s.NumChildren = d.Int()
	s.Pzxid = d.Long()
}

// end records a failure if bytes are left: a record must fill its frame exactly.
func (d *Decoder) end(what string) {
	if d.err == nil && d.Remaining() != 0 {
		d.fail("%d trailing bytes after %s", d.Remaining(), what)
	}
}

// Record writes a whole record, for callers that embed records in their own formats (the
// transaction log, snapshots). Vectors follow the record's own rule (see record_codec.go).
func (e *Encoder) Record(r Record) { r.encodeTo(e) }

// Stat writes the 68-byte Stat record.
func (e *Encoder) Stat(s *Stat) { e.stat(s) }

// ACLs writes a vector<ACL>; nil is written as the null vector, as jute does.
func (e *Encoder) ACLs(xs []ACL) { e.acls(xs, nullable) }

// Strings writes a vector<ustring>; nil is written as the null vector, as jute does.
func (e *Encoder) Strings(xs []string) { e.strings(xs, nullable) }

// Record reads a whole record into r; check Err (or Finish) afterwards.
func (d *Decoder) Record(r Record) { r.decodeFrom(d) }

// Stat reads the 68-byte Stat record.
func (d *Decoder) Stat() Stat {
	var s Stat
	d.stat(&s)
	return s
}

// ACLs reads a vector<ACL>; the null vector is returned as nil.
func (d *Decoder) ACLs() []ACL { return d.acls(nullable) }

// Strings reads a vector<ustring>; the null vector is returned as nil.
func (d *Decoder) Strings() []string { return d.strings(nullable) }

// Finish returns the first failure, or a failure if any bytes are left unread: for formats
// where a record must fill its buffer exactly.
func (d *Decoder) Finish() error {
	d.end("record")
	return d.err
}
