// Package verify checks a bundle directory against its SHA256SUMS, whose own
// hash the operator pins. It is shared by the server (at start) and by
// offline-bundle (-verify, and as a self-check after bundling), so both
// sides agree on what an intact bundle is.
package verify

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
)

// SumsName is the manifest of hashes at the bundle root. It is the only file
// that SHA256SUMS does not list: its hash is pinned out of band instead.
const SumsName = "SHA256SUMS"

// Sum is one line of SHA256SUMS.
type Sum struct {
	Path string // slash-separated, relative to the bundle root
	Hash [sha256.Size]byte
}

// ValidPath reports why p is not a path that may appear in a bundle or be
// asked for over HTTP, or "" when it is fine. One rule for both places means
// that whatever can be listed can be served, and nothing else can be named.
func ValidPath(p string) string {
	switch {
	case p == "":
		return "empty path"
	case strings.HasPrefix(p, "/"):
		return "absolute path"
	case strings.ContainsRune(p, '\\'):
		return "backslash in path"
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c < 0x20 || c == 0x7f {
			return "control character in path"
		}
	}
	for seg := range strings.SplitSeq(p, "/") {
		switch seg {
		case "":
			return "empty path segment"
		case ".", "..":
			return "dot segment in path"
		}
	}
	return ""
}

// ParseSums parses sha256sum output strictly: a bundle whose SHA256SUMS
// cannot be read unambiguously must not be trusted, so anything unusual
// (escaped names, duplicates, bad paths, missing final newline) is an error.
func ParseSums(data []byte) ([]Sum, error) {
	if len(data) > 0 && data[len(data)-1] != '\n' {
		return nil, fmt.Errorf("%s: missing final newline", SumsName)
	}
	if len(data) == 0 {
		return nil, nil
	}
	var sums []Sum
	seen := map[string]bool{}
	for i, line := range bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n")) {
		n := i + 1
		// "<64 hex><space><space or *><path>": sha256sum's text and binary modes.
		if len(line) < 67 || line[64] != ' ' || (line[65] != ' ' && line[65] != '*') {
			return nil, fmt.Errorf("%s line %d: not \"<sha256>  <path>\"", SumsName, n)
		}
		var s Sum
		if _, err := hex.Decode(s.Hash[:], line[:64]); err != nil || !bytes.Equal(bytes.ToLower(line[:64]), line[:64]) {
			return nil, fmt.Errorf("%s line %d: bad hex digest", SumsName, n)
		}
		s.Path = string(line[66:])
		if why := ValidPath(s.Path); why != "" {
			return nil, fmt.Errorf("%s line %d: %s: %q", SumsName, n, why, s.Path)
		}
		if s.Path == SumsName {
			return nil, fmt.Errorf("%s line %d: lists itself", SumsName, n)
		}
		if seen[s.Path] {
			return nil, fmt.Errorf("%s line %d: duplicate path %q", SumsName, n, s.Path)
		}
		seen[s.Path] = true
		sums = append(sums, s)
	}
	return sums, nil
}

// FormatSums renders sums in sha256sum's text format, sorted by path in byte
// order so that the same files always give the same bytes (and hash).
func FormatSums(sums []Sum) []byte {
	sorted := slices.Clone(sums)
	slices.SortFunc(sorted, func(a, b Sum) int { return strings.Compare(a.Path, b.Path) })
	var b bytes.Buffer
	for _, s := range sorted {
		b.WriteString(hex.EncodeToString(s.Hash[:]))
		b.WriteString("  ")
		b.WriteString(s.Path)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// ParsePinned normalises an operator-supplied hash of SHA256SUMS.
func ParsePinned(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if len(s) != 64 {
		return "", fmt.Errorf("want 64 hex digits, got %d characters", len(s))
	}
	if _, err := hex.DecodeString(s); err != nil {
		return "", fmt.Errorf("not hex: %q", s)
	}
	return s, nil
}
