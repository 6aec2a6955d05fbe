package config

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPropertiesFormat checks the java.util.Properties rules zoo.cfg files rely on.
func TestPropertiesFormat(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []property
	}{
		{"equals", "a=b", []property{{"a", "b", 1}}},
		{"blanks around equals", "  a   =   b  ", []property{{"a", "b", 1}}},
		{"colon", "a: b", []property{{"a", "b", 1}}},
		{"whitespace separator", "a\tb c", []property{{"a", "b c", 1}}},
		{"hash and bang comments", "# x=y\n  ! z=w\na=1", []property{{"a", "1", 3}}},
		{"hash inside a value is not a comment", "a=b#c", []property{{"a", "b#c", 1}}},
		{"CRLF and CR line ends", "a=1\r\nb=2\rc=3", []property{{"a", "1", 1}, {"b", "2", 2}, {"c", "3", 3}}},
		{"continuation drops leading blanks", "list=a,\\\n    b,\\\n    c\nnext=1",
			[]property{{"list", "a,b,c", 1}, {"next", "1", 4}}},
		{"escaped backslash is not a continuation", "p=C:\\\\\nq=2", []property{{"p", `C:\`, 1}, {"q", "2", 2}}},
		{"continuation line starting with # is not a comment", "a=x\\\n#y", []property{{"a", "x#y", 1}}},
		{"escaped separator in key", `a\=b=c`, []property{{"a=b", "c", 1}}},
		{"escapes in value", `a=x\ty\u0041\z`, []property{{"a", "x\tyAz", 1}}},
		{"empty value", "a=", []property{{"a", "", 1}}},
		{"key only", "a", []property{{"a", "", 1}}},
		{"second separator is part of the value", "a==b", []property{{"a", "=b", 1}}},
		{"continuation at end of file", "a=b\\", []property{{"a", "b", 1}}},
		{"utf-8 path", "dataDir=/var/lib/zoo/données", []property{{"dataDir", "/var/lib/zoo/données", 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseProperties(tt.src)
			require.NoError(t, err, "input %q", tt.src)
			assert.Equal(t, tt.want, got, "input %q", tt.src)
		})
	}
}

func TestPropertiesBadUnicodeEscape(t *testing.T) {
	_, err := parseProperties("a=1\nb=\\u12")
	require.Error(t, err)
	assert.Contains(t, err.Error(), ":2:", "the error must name line 2: %v", err)
	assert.Contains(t, err.Error(), `\uxxxx`)
}

func FuzzParse(f *testing.F) {
	f.Add("tickTime=2000\ndataDir=/d\nclientPort=2181\nserver.1=h:1:2;3\n", uint64(1))
	f.Add("a=\\u00\\\n\\", uint64(0))
	f.Add("server.1=[::1]:2888:3888:observer;[::1]:2181", uint64(1))
	f.Fuzz(func(t *testing.T, src string, myid uint64) {
		c, _, err := Parse(stringsReader(src), myid)
		if err == nil && c.ClientAddr == "" {
			t.Fatalf("accepted config without a client address: %q", src)
		}
	})
}
