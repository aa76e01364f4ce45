package verify

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestValidPath(t *testing.T) {
	for _, tc := range []struct {
		path, why string
	}{
		{"golang.org/x/text/@v/v0.43.0.zip", ""},
		{"github.com/!burnt!sushi/toml/@v/list", ""},
		{"sumdb/sum.golang.org/tile/8/0/x273/278.p/104", ""},
		{"files/go1.26.8.linux-amd64.tar.gz", ""},
		{"", "empty path"},
		{"/etc/passwd", "absolute path"},
		{"a/../b", "dot segment in path"},
		{"..", "dot segment in path"},
		{"./a", "dot segment in path"},
		{"a//b", "empty path segment"},
		{"a/", "empty path segment"},
		{`a\..\b`, "backslash in path"},
		{"a\x00b", "control character in path"},
		{"a\nb", "control character in path"},
		{"a\x7fb", "control character in path"},
	} {
		if got := ValidPath(tc.path); got != tc.why {
			t.Errorf("ValidPath(%q) = %q, want %q", tc.path, got, tc.why)
		}
	}
}

func TestParseSums(t *testing.T) {
	h := strings.Repeat("ab", 32)
	for _, tc := range []struct {
		name, data string
		want       []string // paths
		err        string
	}{
		{"empty", "", nil, ""},
		{"text and binary mode", h + "  a/b\n" + h + " *c\n", []string{"a/b", "c"}, ""},
		{"no final newline", h + "  a", nil, "missing final newline"},
		{"short line", "abc  x\n", nil, "not"},
		{"one space", h + " a\n", nil, "not"},
		{"bad hex", strings.Repeat("zz", 32) + "  a\n", nil, "bad hex"},
		{"duplicate", h + "  a\n" + h + "  a\n", nil, "duplicate"},
		{"lists itself", h + "  SHA256SUMS\n", nil, "lists itself"},
		{"dot dot", h + "  ../x\n", nil, "dot segment"},
		{"absolute", h + "  /x\n", nil, "absolute"},
		{"escaped name", `\` + h + "  a\\\\b\n", nil, "not"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sums, err := ParseSums([]byte(tc.data))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range sums {
				got = append(got, s.Path)
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Fatalf("paths = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestFormatSumsSortsAndRoundTrips(t *testing.T) {
	sums := []Sum{{Path: "b"}, {Path: "a/z"}, {Path: "B"}, {Path: "a"}}
	out := FormatSums(sums)
	parsed, err := ParseSums(out)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, s := range parsed {
		order = append(order, s.Path)
	}
	if got := strings.Join(order, " "); got != "B a a/z b" { // byte order
		t.Fatalf("order %q", got)
	}
	if !bytes.Equal(FormatSums(parsed), out) {
		t.Fatal("not stable")
	}
}

func TestParsePinned(t *testing.T) {
	good := strings.Repeat("aB", 32)
	if got, err := ParsePinned(" " + good + "\n"); err != nil || got != strings.ToLower(good) {
		t.Fatalf("ParsePinned = %q, %v", got, err)
	}
	for _, bad := range []string{"", "abc", strings.Repeat("g", 64), strings.Repeat("a", 65)} {
		if _, err := ParsePinned(bad); err == nil {
			t.Errorf("ParsePinned(%q) accepted", bad)
		}
	}
}

func TestHashFilesMatchesSHA256(t *testing.T) {
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(1, 2))
	var paths []string
	var want [][32]byte
	for i, size := range []int{0, 1, bufSize - 1, bufSize, bufSize + 1, 3*bufSize + 17, 4096} {
		data := make([]byte, size)
		for j := range data {
			data[j] = byte(r.Uint32())
		}
		p := filepath.Join(dir, string(rune('a'+i)))
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
		want = append(want, sha256.Sum256(data))
	}
	paths = append(paths, filepath.Join(dir, "missing"))
	for _, workers := range []int{1, 3, 0} {
		got := HashFiles(context.Background(), paths, nil, workers)
		for i := range want {
			if got[i].Err != nil || got[i].Sum != want[i] {
				t.Errorf("workers=%d file %d: %x, %v", workers, i, got[i].Sum, got[i].Err)
			}
		}
		if got[len(want)].Err == nil {
			t.Errorf("workers=%d: missing file hashed", workers)
		}
	}
}

// writeBundle creates files and a SHA256SUMS over them, returning the
// pinned hash.
func writeBundle(t testing.TB, dir string, files map[string]string) string {
	t.Helper()
	var sums []Sum
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		sums = append(sums, Sum{Path: name, Hash: sha256.Sum256([]byte(content))})
	}
	data := FormatSums(sums)
	if err := os.WriteFile(filepath.Join(dir, SumsName), data, 0o644); err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(data)
	return hex.EncodeToString(h[:])
}

func TestVerify(t *testing.T) {
	files := map[string]string{
		"manifest.json":                     "{}\n",
		"golang.org/x/text/@v/list":         "v0.43.0\n",
		"golang.org/x/text/@v/v0.43.0.info": `{"Version":"v0.43.0"}`,
		"golang.org/x/text/@v/v0.43.0.zip":  strings.Repeat("zip", 1000),
		"files/go.tar.gz":                   "tarball",
	}
	for _, tc := range []struct {
		name   string
		mutate func(t *testing.T, dir, outside string) // after sealing
		pinned string                                  // "" = the right one
		want   []string                                // "path: reason substring"
	}{
		{name: "ok"},
		{name: "flipped byte", mutate: func(t *testing.T, dir, _ string) {
			p := filepath.Join(dir, "golang.org/x/text/@v/v0.43.0.zip")
			data, _ := os.ReadFile(p)
			data[100] ^= 1
			os.WriteFile(p, data, 0o644)
		}, want: []string{"golang.org/x/text/@v/v0.43.0.zip: sha256 mismatch"}},
		{name: "missing file", mutate: func(t *testing.T, dir, _ string) {
			os.Remove(filepath.Join(dir, "files/go.tar.gz"))
		}, want: []string{"files/go.tar.gz: missing"}},
		{name: "unlisted file", mutate: func(t *testing.T, dir, _ string) {
			os.WriteFile(filepath.Join(dir, "golang.org/x/text/@v/v9.9.9.zip"), []byte("evil"), 0o644)
		}, want: []string{"golang.org/x/text/@v/v9.9.9.zip: not listed"}},
		{name: "swapped SHA256SUMS", mutate: func(t *testing.T, dir, _ string) {
			// A consistent but different bundle: only the pin catches it.
			f2 := map[string]string{}
			for k, v := range files {
				f2[k] = v
			}
			f2["golang.org/x/text/@v/v0.43.0.zip"] = "evil"
			writeBundle(t, dir, f2)
		}, want: []string{"SHA256SUMS: sha256 "}},
		{name: "wrong pin", pinned: strings.Repeat("0", 64), want: []string{"SHA256SUMS: sha256 "}},
		{name: "missing SHA256SUMS", mutate: func(t *testing.T, dir, _ string) {
			os.Remove(filepath.Join(dir, SumsName))
		}, want: []string{"SHA256SUMS: missing"}},
		{name: "symlink out of the bundle", mutate: func(t *testing.T, dir, outside string) {
			os.WriteFile(filepath.Join(outside, "secret"), []byte("x"), 0o644)
			os.Symlink(filepath.Join(outside, "secret"), filepath.Join(dir, "golang.org/x/text/@v/evil.mod"))
		}, want: []string{"golang.org/x/text/@v/evil.mod: symlink escapes the bundle"}},
		{name: "relative symlink out replacing a listed file", mutate: func(t *testing.T, dir, outside string) {
			os.WriteFile(filepath.Join(outside, "tar"), []byte("tarball"), 0o644) // same content
			p := filepath.Join(dir, "files/go.tar.gz")
			os.Remove(p)
			rel, _ := filepath.Rel(filepath.Dir(p), filepath.Join(outside, "tar"))
			os.Symlink(rel, p)
		}, want: []string{"files/go.tar.gz: missing", "files/go.tar.gz: symlink escapes the bundle"}},
		{name: "symlink inside the bundle is fine", mutate: func(t *testing.T, dir, _ string) {
			p := filepath.Join(dir, "files/go.tar.gz")
			os.Rename(p, filepath.Join(dir, "files/real.tar.gz"))
			os.Symlink("real.tar.gz", p)
		}, want: []string{"files/real.tar.gz: not listed"}}, // the target itself is unlisted
		{name: "symlink to a directory", mutate: func(t *testing.T, dir, _ string) {
			os.Symlink("../golang.org", filepath.Join(dir, "files/dir"))
		}, want: []string{"files/dir: symlink to a non-regular file"}},
		{name: "dangling symlink", mutate: func(t *testing.T, dir, _ string) {
			os.Symlink("nowhere", filepath.Join(dir, "files/dangling"))
		}, want: []string{"files/dangling: dangling symlink"}},
		{name: "fifo", mutate: func(t *testing.T, dir, _ string) {
			if err := syscall.Mkfifo(filepath.Join(dir, "files/fifo"), 0o644); err != nil {
				t.Skip("mkfifo:", err)
			}
		}, want: []string{"files/fifo: not a regular file"}},
		{name: "garbage SHA256SUMS pinned correctly", mutate: func(t *testing.T, dir, _ string) {
			os.WriteFile(filepath.Join(dir, SumsName), []byte("garbage\n"), 0o644)
		}, pinned: hex.EncodeToString(func() []byte { h := sha256.Sum256([]byte("garbage\n")); return h[:] }()),
			want: []string{"SHA256SUMS: SHA256SUMS line 1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			dir, outside := filepath.Join(root, "bundle"), filepath.Join(root, "outside")
			os.Mkdir(dir, 0o755)
			os.Mkdir(outside, 0o755)
			pinned := writeBundle(t, dir, files)
			if tc.mutate != nil {
				tc.mutate(t, dir, outside)
			}
			if tc.pinned != "" {
				pinned = tc.pinned
			}
			res, err := Verify(context.Background(), dir, pinned, 2)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range res.Problems {
				got = append(got, p.String())
			}
			if len(got) != len(tc.want) {
				t.Fatalf("problems = %q, want %q", got, tc.want)
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tc.want[i]) {
					t.Errorf("problem %d = %q, want prefix %q", i, got[i], tc.want[i])
				}
			}
			if tc.want == nil {
				if !res.OK() || res.Listed != len(files) || len(res.Files) != len(files) {
					t.Fatalf("res = %+v", res)
				}
				for _, f := range res.Files {
					if f.Size != int64(len(files[f.Path])) || !filepath.IsAbs(f.RealPath) || f.Info == nil {
						t.Errorf("file %+v", f)
					}
				}
			}
		})
	}
}

func TestVerifyBundleDirMissing(t *testing.T) {
	res, err := Verify(context.Background(), filepath.Join(t.TempDir(), "nope"), strings.Repeat("0", 64), 0)
	if err != nil || res.OK() || res.Problems[0].Path != "." {
		t.Fatalf("res = %+v, err = %v", res, err)
	}
}

func TestVerifyCancelled(t *testing.T) {
	dir := t.TempDir()
	pinned := writeBundle(t, dir, map[string]string{"a": "a", "b": "b"})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Verify(ctx, dir, pinned, 1); err == nil {
		t.Fatal("no error from a cancelled verification")
	}
}

// BenchmarkVerify measures verification throughput over a mixed tree (a
// few large files, many small ones). Compare with `sha256sum -c` over the
// same tree; see README.md.
func BenchmarkVerify(b *testing.B) {
	dir := b.TempDir()
	r := rand.New(rand.NewPCG(3, 4))
	files := map[string]string{}
	var total int64
	for i := range 1000 {
		size := 16 << 10
		if i < 8 {
			size = 8 << 20
		}
		data := make([]byte, size)
		for j := 0; j < len(data); j += 8 {
			v := r.Uint64()
			for k := 0; k < 8 && j+k < len(data); k++ {
				data[j+k] = byte(v >> (8 * k))
			}
		}
		files["d/"+strings.Repeat("x", i%7)+string(rune('a'+i%26))+"/"+hex.EncodeToString([]byte{byte(i >> 8), byte(i)})] = string(data)
		total += int64(size)
	}
	pinned := writeBundle(b, dir, files)
	b.SetBytes(total)
	b.ResetTimer()
	for b.Loop() {
		res, err := Verify(context.Background(), dir, pinned, 0)
		if err != nil || !res.OK() {
			b.Fatal(err, res.Problems)
		}
	}
}
