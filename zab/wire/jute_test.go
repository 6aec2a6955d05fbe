package wire

import (
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// TestPrimitivesRoundTrip covers the exported jute primitives other packages may build their
// own formats from (snapshots, the transaction log).
func TestPrimitivesRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		i, l, b := genInt32.Draw(t, "int"), genInt64.Draw(t, "long"), genBool.Draw(t, "bool")
		buf, s := genBuffer.Draw(t, "buffer"), genText.Draw(t, "ustring")
		st, acls, strs := genStat.Draw(t, "stat"), genACLs(true).Draw(t, "acls"), genStrings(true).Draw(t, "strings")
		create := genRequestBodyFor(t, OpCreate).(*CreateRequest)
		rh := RequestHeader{Xid: genInt32.Draw(t, "xid"), Type: OpCode(genInt32.Draw(t, "type"))}

		e := NewEncoder(nil)
		e.Int(i)
		e.Long(l)
		e.Bool(b)
		e.Buffer(buf)
		e.String(s)
		e.Stat(&st)
		e.ACLs(acls)
		e.Strings(strs)
		e.Record(create)
		e.Record(&rh)
		enc := e.Bytes()

		d := NewDecoder(enc)
		require.Equal(t, i, d.Int())
		require.Equal(t, l, d.Long())
		require.Equal(t, b, d.Bool())
		require.Equal(t, buf, d.Buffer())
		require.Equal(t, s, d.String())
		require.Equal(t, st, d.Stat())
		require.Equal(t, acls, d.ACLs())
		require.Equal(t, strs, d.Strings())
		var gotCreate CreateRequest
		d.Record(&gotCreate)
		require.Equal(t, *create, gotCreate)
		var gotRH RequestHeader
		d.Record(&gotRH)
		require.Equal(t, rh, gotRH)
		require.NoError(t, d.Finish(), "everything encoded was read back from %x", enc)
		require.Zero(t, d.Remaining())
		require.Equal(t, len(enc), d.Offset())
	})
}

func TestDecoderErrorsAreSticky(t *testing.T) {
	d := NewDecoder([]byte{0, 0, 0, 1, 0xff})
	require.Equal(t, int32(1), d.Int())
	require.Zero(t, d.Long(), "a long needs 8 bytes, 1 is left")
	require.ErrorIs(t, d.Err(), ErrMalformed)
	first := d.Err()
	require.False(t, d.Bool(), "reads after a failure return zero values")
	require.Equal(t, first, d.Err(), "the first failure is kept")
	require.Equal(t, 4, d.Offset(), "a failed read consumes nothing")

	d = NewDecoder([]byte{0, 0, 0, 1, 0xff})
	d.Int()
	require.ErrorIs(t, d.Finish(), ErrMalformed, "one byte left over")
}

// TestStringsDecodeAsJavaDoes: a ustring that is not UTF-8 becomes what Java's
// new String(bytes, UTF_8) makes of it, one U+FFFD per maximal ill-formed subsequence.
func TestStringsDecodeAsJavaDoes(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{"valid text is untouched", "/a/é/😀", "/a/é/😀"},
		{"a stray byte", "/\xff", "/\uFFFD"},
		{"a lone continuation byte", "a\x80b", "a\uFFFDb"},
		{"a truncated 3-byte sequence is one replacement", "a\xe2\x82b", "a\uFFFDb"},
		{"a truncated 4-byte sequence at the end", "x\xf0\x9f\x98", "x\uFFFD"},
		{"an encoded surrogate: three", "\xed\xa0\x80", "\uFFFD\uFFFD\uFFFD"},
		{"an overlong NUL: two", "\xc0\x80", "\uFFFD\uFFFD"},
		{"an out-of-range lead", "\xf5\x80\x80\x80", "\uFFFD\uFFFD\uFFFD\uFFFD"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			frame := NewEncoder(nil)
			frame.String(tc.in)
			d := NewDecoder(frame.Bytes())
			require.Equal(t, tc.want, d.String(), "decoding %q", tc.in)
			require.NoError(t, d.Finish())
		})
	}
}
