package bundle

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/airgap-go-constructs/mirror/internal/verify"
)

func TestParseToolchain(t *testing.T) {
	for _, tc := range []struct {
		in, path, name, err string
	}{
		{"/dl/go1.26.8.linux-amd64.tar.gz", "/dl/go1.26.8.linux-amd64.tar.gz", "go1.26.8.linux-amd64.tar.gz", ""},
		{"/dl/x.tgz=go/linux-amd64.tar.gz", "/dl/x.tgz", "go/linux-amd64.tar.gz", ""},
		{"/dl/a=b.tgz=c.tgz", "/dl/a=b.tgz", "c.tgz", ""},
		{"/dl/x=../evil", "", "", "dot segment"},
		{"/dl/x=/abs", "", "", "absolute"},
		{"/dl/x=", "", "", "empty path"},
		{"=name", "", "", "empty path"},
	} {
		got, err := ParseToolchain(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseToolchain(%q) err = %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got.Path != tc.path || got.Name != tc.name {
			t.Errorf("ParseToolchain(%q) = %+v, %v", tc.in, got, err)
		}
	}
}

func TestUnescape(t *testing.T) {
	for in, want := range map[string]string{
		"github.com/!burnt!sushi/toml": "github.com/BurntSushi/toml",
		"golang.org/x/text":            "golang.org/x/text",
		"v1.0.0-!r!c1":                 "v1.0.0-RC1",
		"bad!":                         "",
		"bad!1":                        "",
		"Upper":                        "",
	} {
		got, ok := unescape(in)
		if got != want || ok != (want != "") {
			t.Errorf("unescape(%q) = %q, %v", in, got, ok)
		}
	}
}

func TestGoEnv(t *testing.T) {
	env := goEnv([]string{
		"HOME=/root", "GOPROXY=https://proxy.example", "GOSUMDB=sum.golang.org", "GONOSUMDB=corp.example",
		"GOPATH=/caller/go", "GOMODCACHE=/caller/mod", "GOWORK=/x/go.work", "GOFLAGS=-mod=vendor -tags=x -modcacherw",
	}, "/tmp/gp", "/tmp/gp/pkg/mod")
	got := strings.Join(env, "\n")
	want := strings.Join([]string{
		"HOME=/root", "GOPROXY=https://proxy.example", "GOSUMDB=sum.golang.org", "GONOSUMDB=corp.example",
		"GOPATH=/tmp/gp", "GOMODCACHE=/tmp/gp/pkg/mod", "GOWORK=off", "GOFLAGS=-tags=x -mod=mod -modcacherw",
	}, "\n")
	if got != want {
		t.Errorf("goEnv:\n%s\nwant:\n%s", got, want)
	}
}

func note(n string) string {
	return "go.sum database tree\n" + n + "\nHASH" + n + "=\n\n— sum.golang.org SIG" + n + "\n"
}

func TestUnifyLookups(t *testing.T) {
	for _, tc := range []struct {
		name    string
		latest  string
		lookups map[string]string
		err     string
	}{
		{"rewrites older notes", note("300"), map[string]string{
			"a.example/m@v1.0.0": "12\na.example/m v1.0.0 h1:x=\na.example/m v1.0.0/go.mod h1:y=\n\n" + note("100"),
			"b.example/m@v1.0.0": "250\nb.example/m v1.0.0 h1:x=\n\n" + note("300"),
		}, ""},
		{"lookup newer than latest", note("100"), map[string]string{"a.example/m@v1.0.0": "12\nx\n\n" + note("300")}, "newer"},
		{"not a lookup", note("100"), map[string]string{"a.example/m@v1.0.0": "garbage"}, "not a checksum database lookup"},
		{"bad note", "nonsense\n", map[string]string{"a.example/m@v1.0.0": "12\nx\n\n" + note("1")}, "latest note"},
		{"no latest", "", map[string]string{"a.example/m@v1.0.0": "12\nx\n\n" + note("1")}, "no latest note"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cache, config := t.TempDir(), t.TempDir()
			host := filepath.Join(cache, "sum.golang.org")
			for name, data := range tc.lookups {
				p := filepath.Join(host, "lookup", name)
				os.MkdirAll(filepath.Dir(p), 0o755)
				os.WriteFile(p, []byte(data), 0o644)
			}
			os.MkdirAll(filepath.Join(host, "tile", "8", "0"), 0o755)
			os.WriteFile(filepath.Join(host, "tile", "8", "0", "001"), []byte("tile"), 0o644)
			if tc.latest != "" {
				os.MkdirAll(filepath.Join(config, "sum.golang.org"), 0o755)
				os.WriteFile(filepath.Join(config, "sum.golang.org", "latest"), []byte(tc.latest), 0o644)
			}
			err := unifyLookups(cache, config)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for name, before := range tc.lookups {
				data, _ := os.ReadFile(filepath.Join(host, "lookup", name))
				id, record, n, err := splitLookup(data)
				wantID, wantRecord, _, _ := splitLookup([]byte(before))
				if err != nil || id != wantID || !bytes.Equal(record, wantRecord) || string(n) != tc.latest {
					t.Errorf("%s = %q", name, data)
				}
			}
			if _, err := os.Stat(filepath.Join(host, "tile")); !os.IsNotExist(err) {
				t.Errorf("tiles of older trees kept: %v", err)
			}
		})
	}
}

func TestUnifyLookupsNoSumdb(t *testing.T) {
	if err := unifyLookups(filepath.Join(t.TempDir(), "none"), t.TempDir()); err != nil {
		t.Fatal(err)
	}
}

func TestCheckOut(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	os.WriteFile(file, nil, 0o644)
	full := filepath.Join(dir, "full")
	os.MkdirAll(filepath.Join(full, "x"), 0o755)
	empty := filepath.Join(dir, "empty")
	os.Mkdir(empty, 0o755)
	for path, want := range map[string]string{
		filepath.Join(dir, "new"): "",
		empty:                     "",
		full:                      "refusing to write into non-empty",
		file:                      "not a directory",
	} {
		err := checkOut(path)
		if (err == nil) != (want == "") || err != nil && !strings.Contains(err.Error(), want) {
			t.Errorf("checkOut(%s) = %v, want %q", path, err, want)
		}
	}
}

// TestBuildToolchainOnly needs no go command: a bundle of extra files only.
func TestBuildToolchainOnly(t *testing.T) {
	src := t.TempDir()
	a := filepath.Join(src, "go1.26.8.linux-amd64.tar.gz")
	os.WriteFile(a, bytes.Repeat([]byte("go"), 5000), 0o644)
	b := filepath.Join(src, "other")
	os.WriteFile(b, []byte("other"), 0o644)
	build := func(out string) (string, []byte, []byte) {
		t.Helper()
		hash, err := Build(context.Background(), Options{
			Out: out, Toolchains: []Toolchain{{Path: a, Name: "go1.26.8.linux-amd64.tar.gz"}, {Path: b, Name: "sub/other.bin"}},
		})
		if err != nil {
			t.Fatal(err)
		}
		sums, _ := os.ReadFile(filepath.Join(out, verify.SumsName))
		man, _ := os.ReadFile(filepath.Join(out, ManifestName))
		return hash, sums, man
	}
	out1, out2 := filepath.Join(t.TempDir(), "b1"), filepath.Join(t.TempDir(), "b2")
	h1, s1, m1 := build(out1)
	h2, s2, m2 := build(out2)
	if h1 != h2 || !bytes.Equal(s1, s2) || !bytes.Equal(m1, m2) {
		t.Fatalf("not deterministic:\n%s\n%s", s1, s2)
	}
	if pinned, _ := os.ReadFile(out1 + ".sha256sums-hash"); string(pinned) != h1+"\n" {
		t.Errorf(".sha256sums-hash = %q", pinned)
	}
	var m Manifest
	if err := json.Unmarshal(m1, &m); err != nil {
		t.Fatal(err)
	}
	if m.FormatVersion != 1 || m.FileCount != 2 || m.TotalBytes != 10005 || len(m.ToolchainFiles) != 2 ||
		m.ToolchainFiles[0].Path != "files/go1.26.8.linux-amd64.tar.gz" || m.ToolchainFiles[1].Name != "sub/other.bin" ||
		m.ToolchainFiles[1].Sha256 != "d9298a10d1b0735837dc4bd85dac641b0f3cef27a47e5d53a54f2f3f5b2fcffa" {
		t.Errorf("manifest:\n%s", m1)
	}
	wantSums := "d9298a10d1b0735837dc4bd85dac641b0f3cef27a47e5d53a54f2f3f5b2fcffa  files/sub/other.bin\n"
	if !strings.Contains(string(s1), wantSums) || !strings.HasSuffix(string(s1), "  manifest.json\n") {
		t.Errorf("SHA256SUMS:\n%s", s1)
	}
	res, err := verify.Verify(context.Background(), out1, h1, 0)
	if err != nil || !res.OK() {
		t.Fatalf("verify: %+v %v", res, err)
	}
	// A second run into the same directory is refused and leaves it alone.
	if _, err := Build(context.Background(), Options{Out: out1, Toolchains: []Toolchain{{Path: a, Name: "x"}}}); err == nil ||
		!strings.Contains(err.Error(), "non-empty") {
		t.Fatalf("err = %v", err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(out1)); len(entries) != 2 { // b1 and b1.sha256sums-hash
		t.Errorf("leftovers next to the bundle: %v", entries)
	}
}

func TestBuildErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		o    Options
		err  string
	}{
		{"nothing", Options{Out: filepath.Join(dir, "a")}, "nothing to bundle"},
		{"duplicate name", Options{Out: filepath.Join(dir, "b"), Toolchains: []Toolchain{{Path: dir, Name: "x"}, {Path: dir, Name: "x"}}}, "given twice"},
		{"toolchain is a dir", Options{Out: filepath.Join(dir, "c"), Toolchains: []Toolchain{{Path: dir, Name: "x"}}}, "not a regular file"},
		{"toolchain missing", Options{Out: filepath.Join(dir, "d"), Toolchains: []Toolchain{{Path: filepath.Join(dir, "nope"), Name: "x"}}}, "no such file"},
		{"no go command", Options{Out: filepath.Join(dir, "e"), ModuleDirs: []string{dir}, Go: filepath.Join(dir, "no-go")}, "no-go"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Build(context.Background(), tc.o); err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("err = %v, want %q", err, tc.err)
			}
		})
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("failed builds left %v", entries)
	}
}

func TestSealMatchesVerify(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "a", "b"), 0o755)
	os.WriteFile(filepath.Join(dir, "a", "b", "c"), []byte("c"), 0o644)
	os.WriteFile(filepath.Join(dir, ManifestName), []byte("{}"), 0o644)
	hash, err := Seal(context.Background(), dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := verify.Verify(context.Background(), dir, hash, 0); err != nil || !res.OK() || res.Listed != 2 {
		t.Fatalf("%+v %v", res, err)
	}
}
