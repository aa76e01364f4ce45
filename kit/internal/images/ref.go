// Package images resolves and copies container images by digest with
// oras-go: whole indexes (or the platforms named), their manifests byte for
// byte, and their referrers.
package images

import (
	"fmt"
	"regexp"
	"strings"
)

// Ref is an image reference: registry/repository[:tag][@digest].
type Ref struct {
	Registry   string
	Repository string
	Tag        string
	Digest     string
}

var (
	digestRe = regexp.MustCompile(`^sha256:[a-f0-9]{64}$`)
	tagRe    = regexp.MustCompile(`^[\w][\w.-]{0,127}$`)
)

// ParseRef parses a reference that names its registry explicitly.
func ParseRef(s string) (Ref, error) {
	var r Ref
	rest := s
	if at := strings.IndexByte(rest, '@'); at >= 0 {
		r.Digest, rest = rest[at+1:], rest[:at]
		if !digestRe.MatchString(r.Digest) {
			return r, fmt.Errorf("image %q: the digest %q is not sha256:<64 lowercase hex>", s, r.Digest)
		}
	}
	if colon := strings.LastIndexByte(rest, ':'); colon > strings.LastIndexByte(rest, '/') {
		r.Tag, rest = rest[colon+1:], rest[:colon]
		if !tagRe.MatchString(r.Tag) {
			return r, fmt.Errorf("image %q: %q is not a valid tag", s, r.Tag)
		}
	}
	slash := strings.IndexByte(rest, '/')
	if slash <= 0 || slash == len(rest)-1 {
		return r, fmt.Errorf("image %q names no registry host and repository", s)
	}
	r.Registry, r.Repository = rest[:slash], rest[slash+1:]
	return r, nil
}

// Name is registry/repository.
func (r Ref) Name() string { return r.Registry + "/" + r.Repository }

// String is the canonical form, name[:tag][@digest].
func (r Ref) String() string {
	s := r.Name()
	if r.Tag != "" {
		s += ":" + r.Tag
	}
	if r.Digest != "" {
		s += "@" + r.Digest
	}
	return s
}

// Reference is what to ask the registry for: the digest when there is one, else the tag.
func (r Ref) Reference() string {
	if r.Digest != "" {
		return r.Digest
	}
	return r.Tag
}

// Override maps a source prefix to where it is read from on this side, the
// way Zarf's --registry-override does: the manifest keeps the real source,
// the copy reads from the override.
type Override struct {
	From, To string
}

// ParseOverride reads FROM=TO.
func ParseOverride(s string) (Override, error) {
	from, to, ok := strings.Cut(s, "=")
	from, to = strings.Trim(from, "/"), strings.Trim(to, "/")
	if !ok || from == "" || to == "" {
		return Override{}, fmt.Errorf("override %q is not FROM=TO, such as docker.io/library=127.0.0.1:5001/library", s)
	}
	return Override{From: from, To: to}, nil
}

// Apply returns name moved by the longest matching override, on whole path components.
func Apply(overrides []Override, r Ref) Ref {
	best := -1
	for i, o := range overrides {
		name := r.Name()
		if (name == o.From || strings.HasPrefix(name, o.From+"/")) && (best < 0 || len(o.From) > len(overrides[best].From)) {
			best = i
		}
	}
	if best < 0 {
		return r
	}
	moved, err := ParseRef(overrides[best].To + strings.TrimPrefix(r.Name(), overrides[best].From))
	if err != nil {
		return r
	}
	moved.Tag, moved.Digest = r.Tag, r.Digest
	return moved
}
