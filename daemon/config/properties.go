package config

import (
	"fmt"
	"strconv"
	"strings"
)

// property is one key=value pair of a Java properties file, with the number of the line it
// starts on.
type property struct {
	key, value string
	line       int
}

// propertiesLinesMax bounds the lines read from one file; a zoo.cfg has tens.
const propertiesLinesMax = 1 << 20

// parseProperties reads a file in the format of java.util.Properties.load, which is what
// ZooKeeper's QuorumPeerConfig reads zoo.cfg with:
//   - lines end at \n, \r or \r\n; a line ending in an odd number of backslashes continues
//     on the next one, whose leading whitespace is dropped;
//   - a line whose first non-blank character is '#' or '!' is a comment;
//   - the key ends at the first unescaped '=', ':' or whitespace; whitespace and then one
//     '=' or ':' and more whitespace separate it from the value ("k=v", "k: v", "k v");
//   - escapes \t \n \r \f \uXXXX and \<c> for any other c (so "\=" is a literal '=').
//
// One deviation: the input is read as UTF-8, where Java reads ISO-8859-1, so a UTF-8 path
// in dataDir means what the operator typed. Values are trimmed, as QuorumPeerConfig does.
func parseProperties(src string) ([]property, error) {
	var props []property
	lines := splitLines(src)
	if len(lines) > propertiesLinesMax {
		return nil, fmt.Errorf("config has %d lines, more than %d", len(lines), propertiesLinesMax)
	}
	for i := 0; i < len(lines); i++ {
		start := i + 1
		line := strings.TrimLeft(lines[i], " \t\f")
		if line == "" || line[0] == '#' || line[0] == '!' {
			continue
		}
		// A backslash run cannot span lines (the continuing backslash is dropped), so each
		// natural line is tested alone; a Builder keeps long continued values linear.
		var logical strings.Builder
		for endsInContinuation(line) {
			logical.WriteString(line[:len(line)-1])
			if i+1 == len(lines) { // a continuation at the end of the file continues into nothing
				line = ""
				break
			}
			i++
			line = strings.TrimLeft(lines[i], " \t\f")
		}
		logical.WriteString(line)
		key, value, err := splitKeyValue(logical.String())
		if err != nil {
			return nil, &Error{Line: start, Reason: err.Error()}
		}
		props = append(props, property{key: strings.TrimSpace(key), value: strings.TrimSpace(value), line: start})
	}
	return props, nil
}

func splitLines(src string) []string {
	src = strings.ReplaceAll(src, "\r\n", "\n")
	src = strings.ReplaceAll(src, "\r", "\n")
	return strings.Split(src, "\n")
}

func endsInContinuation(s string) bool {
	n := 0
	for n < len(s) && s[len(s)-1-n] == '\\' {
		n++
	}
	return n%2 == 1
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\f' }

// splitKeyValue splits one logical line into its unescaped key and value.
func splitKeyValue(s string) (key, value string, err error) {
	end := 0
	for end < len(s) {
		c := s[end]
		if c == '\\' {
			end += 2
			continue
		}
		if c == '=' || c == ':' || isBlank(c) {
			break
		}
		end++
	}
	end = min(end, len(s))
	rest := s[end:]
	rest = strings.TrimLeft(rest, " \t\f")
	if rest != "" && (rest[0] == '=' || rest[0] == ':') {
		rest = strings.TrimLeft(rest[1:], " \t\f")
	}
	if key, err = unescape(s[:end]); err != nil {
		return "", "", err
	}
	if value, err = unescape(rest); err != nil {
		return "", "", err
	}
	return key, value, nil
}

func unescape(s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		switch s[i] {
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 'f':
			b.WriteByte('\f')
		case 'u':
			if i+5 > len(s) {
				return "", fmt.Errorf(`malformed \uxxxx escape in %q`, s)
			}
			r, err := strconv.ParseUint(s[i+1:i+5], 16, 16)
			if err != nil {
				return "", fmt.Errorf(`malformed \uxxxx escape in %q`, s)
			}
			b.WriteRune(rune(r))
			i += 4
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String(), nil
}
