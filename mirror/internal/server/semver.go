package server

import (
	"cmp"
	"strings"
)

// version is a parsed semantic version as Go modules use it: "v" prefix,
// build metadata (such as +incompatible) ignored for ordering.
type version struct {
	major, minor, patch string // decimal, no leading zeros
	pre                 []string
}

func parseVersion(v string) (version, bool) {
	var p version
	if !strings.HasPrefix(v, "v") {
		return p, false
	}
	v = v[1:]
	if i := strings.IndexByte(v, '+'); i >= 0 {
		if !validIdents(v[i+1:], false) {
			return p, false
		}
		v = v[:i]
	}
	if i := strings.IndexByte(v, '-'); i >= 0 {
		if !validIdents(v[i+1:], true) {
			return p, false
		}
		p.pre = strings.Split(v[i+1:], ".")
		v = v[:i]
	}
	parts := strings.Split(v, ".")
	if len(parts) != 3 {
		return p, false
	}
	for _, n := range parts {
		if !isNum(n) || (len(n) > 1 && n[0] == '0') {
			return p, false
		}
	}
	p.major, p.minor, p.patch = parts[0], parts[1], parts[2]
	return p, true
}

func validIdents(s string, pre bool) bool {
	if s == "" {
		return false
	}
	for id := range strings.SplitSeq(s, ".") {
		if id == "" {
			return false
		}
		for _, c := range id {
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-') {
				return false
			}
		}
		if pre && isNum(id) && len(id) > 1 && id[0] == '0' {
			return false
		}
	}
	return true
}

func isNum(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// cmpNum orders decimal strings without leading zeros, of any length.
func cmpNum(a, b string) int {
	return cmp.Or(cmp.Compare(len(a), len(b)), strings.Compare(a, b))
}

func compareVersions(a, b version) int {
	if c := cmp.Or(cmpNum(a.major, b.major), cmpNum(a.minor, b.minor), cmpNum(a.patch, b.patch)); c != 0 {
		return c
	}
	switch {
	case len(a.pre) == 0 && len(b.pre) == 0:
		return 0
	case len(a.pre) == 0:
		return 1 // a release sorts after its pre-releases
	case len(b.pre) == 0:
		return -1
	}
	for i := 0; i < len(a.pre) && i < len(b.pre); i++ {
		x, y := a.pre[i], b.pre[i]
		xn, yn := isNum(x), isNum(y)
		var c int
		switch {
		case xn && yn:
			c = cmpNum(x, y)
		case xn:
			c = -1 // numeric identifiers sort before alphanumeric ones
		case yn:
			c = 1
		default:
			c = strings.Compare(x, y)
		}
		if c != 0 {
			return c
		}
	}
	return cmp.Compare(len(a.pre), len(b.pre))
}

// latestVersion picks what `go` itself would call latest from a version
// list: the highest release, or the highest pre-release (pseudo-versions
// included) when there is no release. Invalid lines are ignored.
func latestVersion(list []string) (string, bool) {
	var best string
	var bestV version
	found := false
	for _, s := range list {
		v, ok := parseVersion(s)
		if !ok {
			continue
		}
		better := !found ||
			(len(v.pre) == 0) != (len(bestV.pre) == 0) && len(v.pre) == 0 ||
			(len(v.pre) == 0) == (len(bestV.pre) == 0) && compareVersions(v, bestV) > 0
		if better {
			best, bestV, found = s, v, true
		}
	}
	return best, found
}
