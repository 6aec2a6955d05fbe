package tree

import (
	"strings"
	"unicode/utf8"
)

// ValidPath reports whether path passes ZooKeeper's PathUtils.validatePath: absolute, no
// trailing slash (except the root), no empty, "." or ".." component, and no character that
// PathUtils rejects (zk-protocol.md §6.4). Java checks UTF-16 code units; a Go string holds
// UTF-8, so every non-BMP rune (a surrogate pair in Java) and every invalid byte (decoded by
// Java as U+FFFD, which lies in the rejected U+FFF0-U+FFFF block) is rejected too.
func ValidPath(path string) bool {
	if path == "" || path[0] != '/' {
		return false
	}
	if path == "/" {
		return true
	}
	if path[len(path)-1] == '/' {
		return false
	}
	rest := path[1:]
	for componentsMax := len(path); componentsMax > 0; componentsMax-- {
		name, tail, more := strings.Cut(rest, "/")
		if name == "" || name == "." || name == ".." {
			return false
		}
		if !more {
			break
		}
		rest = tail
	}
	for i := 0; i < len(path); {
		r, size := utf8.DecodeRuneInString(path[i:])
		if forbiddenRune(r) {
			return false
		}
		i += size
	}
	return true
}

// forbiddenRune lists PathUtils' rejected characters, with non-BMP runes standing for the
// surrogates Java would see.
func forbiddenRune(r rune) bool {
	switch {
	case r <= 0x1f:
		return true
	case r >= 0x7f && r <= 0x9f:
		return true
	case r >= 0xd800 && r <= 0xf8ff:
		return true
	case r >= 0xfff0 && r <= 0xffff:
		return true
	case r > 0xffff:
		return true
	}
	return false
}

// splitPath returns the parent path and the last component, as
// PrepRequestProcessor.getParentPathAndValidate does: the parent is the text before the last
// slash, empty meaning the root, so "/a" and "/" both have parent "/" (and "/" has the empty
// name, which a sequential create of "/" turns into "/0000000003"). ok is false when path
// has no slash.
func splitPath(path string) (parent, name string, ok bool) {
	i := strings.LastIndexByte(path, '/')
	if i < 0 {
		return "", "", false
	}
	if i == 0 {
		return "/", path[1:], true
	}
	return path[:i], path[i+1:], true
}

// childPath joins a parent path and a child name.
func childPath(parent, name string) string {
	if parent == "/" {
		return "/" + name
	}
	return parent + "/" + name
}

// isSystemPath names the nodes that can never be deleted (DataTree.isSpecialPath /
// PrepRequestProcessor's delete check, zk-protocol.md §6.3).
func isSystemPath(path string) bool {
	switch path {
	case "/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config":
		return true
	}
	return false
}
