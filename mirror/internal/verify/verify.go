package verify

import (
	"cmp"
	"context"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Problem is one reason the bundle is not trusted.
type Problem struct {
	Path   string // relative to the bundle root; "." for the root itself
	Reason string
}

func (p Problem) String() string { return p.Path + ": " + p.Reason }

// File is a listed file whose content matched SHA256SUMS.
type File struct {
	Path     string // as listed
	Sum      [32]byte
	RealPath string // absolute, symlinks resolved: what the server opens
	Size     int64
	Info     os.FileInfo // as hashed; later opens are compared with it
}

// Result of Verify. Files is only complete when OK.
type Result struct {
	SumsHash string // sha256 of the SHA256SUMS that was read, hex; "" if unreadable
	SumsData []byte // the SHA256SUMS bytes that matched the pin
	Listed   int    // entries in SHA256SUMS
	Files    []File // sorted by path
	Bytes    int64  // bytes hashed
	Problems []Problem
	Elapsed  time.Duration
}

// OK reports whether the bundle can be served.
func (r *Result) OK() bool { return len(r.Problems) == 0 }

type found struct {
	real string
	size int64
}

// Verify checks dir against its SHA256SUMS, whose sha256 must equal pinned
// (lower-case hex). It fails closed: every file on disk must be listed and
// match, every listed file must exist, and nothing may be a special file or
// a symlink out of the bundle. workers <= 0 means one per CPU. The error is
// only ctx's; problems with the bundle are in Result.Problems.
func Verify(ctx context.Context, dir, pinned string, workers int) (*Result, error) {
	start := time.Now()
	res := &Result{}
	defer func() { res.Elapsed = time.Since(start) }()
	fail := func(path, format string, args ...any) {
		res.Problems = append(res.Problems, Problem{path, fmt.Sprintf(format, args...)})
	}

	abs, err := filepath.Abs(dir)
	if err == nil {
		abs, err = filepath.EvalSymlinks(abs)
	}
	if err != nil {
		fail(".", "bundle directory unusable: %v", err)
		return res, nil
	}
	onDisk := walk(abs, fail)

	sums, ok := onDisk[SumsName]
	if !ok {
		fail(SumsName, "missing")
		return res.sorted(), nil
	}
	data, err := os.ReadFile(sums.real)
	if err != nil {
		fail(SumsName, "unreadable: %v", err)
		return res.sorted(), nil
	}
	got := HashBytes(data)
	res.SumsHash = hex.EncodeToString(got[:])
	if res.SumsHash != pinned {
		// The list itself is untrusted, so checking files against it would
		// only produce noise.
		fail(SumsName, "sha256 %s does not match the pinned hash %s", res.SumsHash, pinned)
		return res.sorted(), nil
	}
	listed, err := ParseSums(data)
	if err != nil {
		fail(SumsName, "%v", err)
		return res.sorted(), nil
	}
	res.SumsData = data
	res.Listed = len(listed)

	want := make(map[string]bool, len(listed))
	var todo []Sum
	var paths []string
	var sizes []int64
	for _, s := range listed {
		want[s.Path] = true
		f, ok := onDisk[s.Path]
		if !ok {
			fail(s.Path, "missing")
			continue
		}
		todo = append(todo, s)
		paths = append(paths, f.real)
		sizes = append(sizes, f.size)
	}
	for p := range onDisk {
		if p != SumsName && !want[p] {
			fail(p, "not listed in %s", SumsName)
		}
	}

	hashed := HashFiles(ctx, paths, sizes, workers)
	if err := ctx.Err(); err != nil {
		return res, err
	}
	for i, h := range hashed {
		s := todo[i]
		res.Bytes += h.Size
		switch {
		case h.Err != nil:
			fail(s.Path, "read error: %v", h.Err)
		case h.Sum != s.Hash:
			fail(s.Path, "sha256 mismatch: listed %x, content %x", s.Hash, h.Sum)
		case h.Size != h.Info.Size():
			fail(s.Path, "changed while hashing")
		default:
			res.Files = append(res.Files, File{Path: s.Path, Sum: h.Sum, RealPath: paths[i], Size: h.Size, Info: h.Info})
		}
	}
	return res.sorted(), nil
}

func (r *Result) sorted() *Result {
	slices.SortFunc(r.Problems, func(a, b Problem) int {
		return cmp.Or(strings.Compare(a.Path, b.Path), strings.Compare(a.Reason, b.Reason))
	})
	slices.SortFunc(r.Files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	return r
}

// walk lists every non-directory under root by slash path. Symlinks are
// resolved and kept only if they land on a regular file inside root, so a
// listed name can never make the server read outside the bundle.
func walk(root string, fail func(path, format string, args ...any)) map[string]found {
	out := map[string]found{}
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if err != nil {
			fail(rel, "unreadable: %v", err)
			return nil
		}
		mode := d.Type()
		switch {
		case d.IsDir():
			return nil
		case mode.IsRegular():
			info, err := d.Info()
			if err != nil {
				fail(rel, "unreadable: %v", err)
				return nil
			}
			out[rel] = found{real: p, size: info.Size()}
		case mode&fs.ModeSymlink != 0:
			target, err := filepath.EvalSymlinks(p)
			if err != nil {
				fail(rel, "dangling symlink: %v", err)
				return nil
			}
			if r, err := filepath.Rel(root, target); err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
				fail(rel, "symlink escapes the bundle (to %s)", target)
				return nil
			}
			info, err := os.Stat(target)
			if err != nil {
				fail(rel, "unreadable: %v", err)
				return nil
			}
			if !info.Mode().IsRegular() {
				fail(rel, "symlink to a non-regular file (%s)", info.Mode().Type())
				return nil
			}
			out[rel] = found{real: target, size: info.Size()}
		default:
			fail(rel, "not a regular file (%s)", mode)
		}
		return nil
	})
	return out
}
