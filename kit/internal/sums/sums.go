// Package sums reads and writes SHA256SUMS files in the one grammar every
// verifier of ours accepts: `sha256sum` text output, strict.
//
//	file  = *line
//	line  = hex64 SP ( SP / "*" ) path LF
//	hex64 = 64 lowercase hex digits
//	path  = relative POSIX path: no leading "/", no "." or ".." or empty
//	        segment, no control character (NUL, tab, CR, LF, DEL) or backslash
//
// Every line ends in LF (the last one too), no path appears twice, and the
// file does not list itself. The cases in testdata/sha256sums-grammar.json at
// the repository root hold every verifier of ours (Go and TypeScript) to it.
package sums

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
)

// Entry is one line: a path and the sha256 of its content.
type Entry struct {
	Path   string
	SHA256 string // 64 lowercase hex digits
}

// Sums is a parsed SHA256SUMS file, in file order.
type Sums struct {
	Entries []Entry
	byPath  map[string]string
}

// Lookup returns the sha256 listed for path.
func (s *Sums) Lookup(path string) (string, bool) {
	h, ok := s.byPath[path]
	return h, ok
}

// Len is the number of entries.
func (s *Sums) Len() int { return len(s.Entries) }

// CheckPath returns why path cannot appear in SHA256SUMS, or "" when it can.
func CheckPath(path string) string {
	switch {
	case path == "":
		return "is empty"
	case strings.HasPrefix(path, "/"):
		return "is absolute"
	case strings.ContainsRune(path, '\\'):
		return "holds a backslash"
	}
	for i := 0; i < len(path); i++ {
		if c := path[i]; c < 0x20 || c == 0x7f {
			return "holds a control character (a newline, CR, tab or NUL)"
		}
	}
	for _, seg := range strings.Split(path, "/") {
		switch seg {
		case "":
			return "has an empty segment"
		case ".", "..":
			return fmt.Sprintf("has a %q segment", seg)
		}
	}
	return ""
}

// Parse reads a SHA256SUMS file. The error names the line and what is wrong with it.
func Parse(data []byte) (*Sums, error) {
	s := &Sums{byPath: map[string]string{}}
	if len(data) == 0 {
		return s, nil
	}
	if data[len(data)-1] != '\n' {
		return nil, fmt.Errorf("SHA256SUMS does not end in a newline (a truncated file?)")
	}
	lines := bytes.Split(data[:len(data)-1], []byte("\n"))
	for i, raw := range lines {
		line := string(raw)
		n := i + 1
		if len(line) < 67 || (line[65] != ' ' && line[65] != '*') || line[64] != ' ' {
			return nil, fmt.Errorf("SHA256SUMS line %d %q is not \"<64 hex>  <path>\"", n, clip(line))
		}
		sum, path := line[:64], line[66:]
		if _, err := hex.DecodeString(sum); err != nil || strings.ToLower(sum) != sum {
			return nil, fmt.Errorf("SHA256SUMS line %d has %q, which is not 64 lowercase hex digits", n, sum)
		}
		if why := CheckPath(path); why != "" {
			return nil, fmt.Errorf("SHA256SUMS line %d names %q, which %s", n, clip(path), why)
		}
		if path == "SHA256SUMS" {
			return nil, fmt.Errorf("SHA256SUMS line %d lists SHA256SUMS itself", n)
		}
		if _, dup := s.byPath[path]; dup {
			return nil, fmt.Errorf("SHA256SUMS line %d lists %q a second time", n, clip(path))
		}
		s.byPath[path] = sum
		s.Entries = append(s.Entries, Entry{Path: path, SHA256: sum})
	}
	return s, nil
}

// Format writes entries as SHA256SUMS, sorted by path in byte order (as
// `LC_ALL=C sort` sorts), with two spaces between hash and path.
func Format(entries []Entry) ([]byte, error) {
	sorted := append([]Entry(nil), entries...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Path < sorted[j].Path })
	var b bytes.Buffer
	for i, e := range sorted {
		if why := CheckPath(e.Path); why != "" {
			return nil, fmt.Errorf("cannot list %q in SHA256SUMS: it %s", clip(e.Path), why)
		}
		if i > 0 && sorted[i-1].Path == e.Path {
			return nil, fmt.Errorf("cannot list %q in SHA256SUMS twice", clip(e.Path))
		}
		if len(e.SHA256) != 64 {
			return nil, fmt.Errorf("sha256 of %q is %q, not 64 hex digits", clip(e.Path), e.SHA256)
		}
		fmt.Fprintf(&b, "%s  %s\n", e.SHA256, e.Path)
	}
	return b.Bytes(), nil
}

func clip(s string) string {
	if len(s) > 120 {
		return s[:120] + "…"
	}
	return s
}
