package build

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/airgap-go-constructs/kit/internal/images"
)

func writeSpec(t *testing.T, s map[string]any) string {
	t.Helper()
	dir := t.TempDir()
	data, _ := json.Marshal(s)
	p := filepath.Join(dir, "airgap-build.json")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func validSpec() map[string]any {
	return map[string]any{
		"formatVersion": 1, "module": ".", "mainPackage": ".", "binary": "hello", "binaryDir": "/usr/local/bin",
		"env": map[string]string{"GOFLAGS": "-mod=vendor"}, "tags": []string{}, "ldflags": []string{},
		"runtime": "r.internal/base@sha256:" + strings.Repeat("2", 64), "platforms": []string{"linux/amd64", "linux/arm/v7"},
		"repository": "r.internal/team/hello", "user": "65532:65532", "ports": []int{8080}, "labels": map[string]string{},
		"sourceDateEpoch": 0, "sbom": true, "plainHttp": []string{},
	}
}

func TestReadSpecResolvesTheModuleAndRefusesBadSpecs(t *testing.T) {
	p := writeSpec(t, validSpec())
	s, err := ReadSpec(p)
	if err != nil {
		t.Fatal(err)
	}
	if s.Module != filepath.Dir(p) {
		t.Fatalf("module %q, want the spec's folder", s.Module)
	}
	for name, edit := range map[string]func(map[string]any){
		"format 2":           func(m map[string]any) { m["formatVersion"] = 2 },
		`binary "a/b"`:       func(m map[string]any) { m["binary"] = "a/b" },
		`env "PATH"`:         func(m map[string]any) { m["env"] = map[string]string{"PATH": "/x"} },
		"platforms is empty": func(m map[string]any) { m["platforms"] = []string{} },
		`platform "linux"`:   func(m map[string]any) { m["platforms"] = []string{"linux"} },
		`unknown field "x"`:  func(m map[string]any) { m["x"] = 1 },
	} {
		m := validSpec()
		edit(m)
		if _, err := ReadSpec(writeSpec(t, m)); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: got %v", name, err)
		}
	}
}

func TestGoEnvTargetsThePlatform(t *testing.T) {
	t.Setenv("GOARM", "5")
	s := &Spec{Env: map[string]string{"GOFLAGS": "-mod=vendor", "GOOS": "darwin"}}
	env := strings.Join(goEnv(s, images.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}), "\n")
	for _, want := range []string{"GOOS=linux", "GOARCH=arm", "GOARM=7", "CGO_ENABLED=0", "GOTOOLCHAIN=local", "GOFLAGS=-mod=vendor"} {
		if !strings.Contains(env+"\n", want+"\n") {
			t.Errorf("missing %s in\n%s", want, env)
		}
	}
	if strings.Contains(env, "GOARM=5") || strings.Contains(env, "GOOS=darwin") {
		t.Errorf("the caller's or the spec's target leaked in:\n%s", env)
	}
}

func TestTheLayerIsByteIdenticalAndOwnedByRoot(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "hello")
	os.WriteFile(bin, []byte("\x7fELF binary"), 0o755)
	s := &Spec{Binary: "hello", BinaryDir: "/usr/local/bin", SourceDateEpoch: 1790000000}
	digests := map[string]bool{}
	for i := 0; i < 2; i++ {
		os.Chtimes(bin, timeNow(i), timeNow(i))
		l, err := layer(s, bin)
		if err != nil {
			t.Fatal(err)
		}
		d, _ := l.Digest()
		digests[d.String()] = true
		rc, _ := l.Uncompressed()
		tr := tar.NewReader(rc)
		var names []string
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			names = append(names, h.Name)
			if h.Uid != 0 || h.Gid != 0 || h.ModTime.Unix() != 1790000000 {
				t.Errorf("%s: uid %d gid %d mtime %d", h.Name, h.Uid, h.Gid, h.ModTime.Unix())
			}
			if h.Name == "usr/local/bin/hello" && h.Mode != 0o555 {
				t.Errorf("binary mode %o", h.Mode)
			}
		}
		rc.Close()
		if strings.Join(names, ",") != "usr/,usr/local/,usr/local/bin/,usr/local/bin/hello" {
			t.Errorf("entries %v", names)
		}
	}
	if len(digests) != 1 {
		t.Fatalf("two layers of the same binary differ: %v", digests)
	}
}

func TestSPDXFromARealBinaryFillsVendoredSumsFromGoSum(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go")
	}
	dir := t.TempDir()
	files := map[string]string{
		"go.mod":  "module example.com/hello\n\ngo 1.26\n",
		"main.go": "package main\n\nfunc main() {}\n",
		// A line for a module the binary does not use, and a go.mod line: neither is listed.
		"go.sum": "example.com/other v1.0.0 h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\nexample.com/other v1.0.0/go.mod h1:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB=\n",
	}
	for n, c := range files {
		os.WriteFile(filepath.Join(dir, n), []byte(c), 0o644)
	}
	bin := filepath.Join(dir, "hello")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64", "GOFLAGS=-mod=mod", "GOPROXY=off", "GOTOOLCHAIN=local")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	in := SBOMInput{Binary: bin, ModuleDir: dir, Name: "hello", Platform: "linux/arm64", Image: "r.internal/team/hello@sha256:" + strings.Repeat("a", 64), Base: "r.internal/base@sha256:" + strings.Repeat("b", 64), Created: 0}
	doc, err := SPDX(in)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := SPDX(in)
	if !bytes.Equal(doc, again) {
		t.Fatal("the same binary gave two documents")
	}
	var d spdxDoc
	if err := json.Unmarshal(doc, &d); err != nil {
		t.Fatal(err)
	}
	names := map[string]spdxPackage{}
	for _, p := range d.Packages {
		names[p.Name] = p
	}
	if names["example.com/hello"].PrimaryPurpose != "APPLICATION" || !strings.Contains(names["example.com/hello"].Comment, "GOARCH=arm64") {
		t.Errorf("main module: %+v", names["example.com/hello"])
	}
	if !strings.HasPrefix(names["stdlib"].VersionInfo, "go1.") || names["r.internal/base@sha256:"+strings.Repeat("b", 64)].VersionInfo != "sha256:"+strings.Repeat("b", 64) {
		t.Errorf("packages: %+v", d.Packages)
	}
	if _, listed := names["example.com/other"]; listed {
		t.Error("a go.sum line the binary does not use was listed")
	}
	if d.CreationInfo.Created != "1970-01-01T00:00:00Z" || d.SPDXVersion != "SPDX-2.3" {
		t.Errorf("header: %+v", d)
	}
}

func TestH1HexDecodesOnlyWellFormedHashes(t *testing.T) {
	if got := h1Hex("h1:1QivrlhwAsnMOcqgOdl9my7s9OyZl8O5/UGUTJVXoWc="); len(got) != 64 {
		t.Errorf("got %q", got)
	}
	for _, bad := range []string{"", "h1:", "h2:1QivrlhwAsnMOcqgOdl9my7s9OyZl8O5/UGUTJVXoWc=", "h1:not-base64!"} {
		if got := h1Hex(bad); got != "" {
			t.Errorf("%q: got %q", bad, got)
		}
	}
}

func timeNow(i int) time.Time { return time.Unix(int64(1000000+i*3600), 0) }

func TestExtractFileTakesTheTopMostLayersCopy(t *testing.T) {
	mk := func(content string) v1.Layer {
		bin := filepath.Join(t.TempDir(), "hello")
		os.WriteFile(bin, []byte(content), 0o755)
		l, err := layer(&Spec{Binary: "hello", BinaryDir: "/usr/local/bin"}, bin)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	img, err := mutate.AppendLayers(empty.Image, mk("old"), mk("new"))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "bin")
	if err := extractFile(img, "/usr/local/bin/hello", out); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(out); string(got) != "new" {
		t.Fatalf("got %q, want the top layer's", got)
	}
	if err := extractFile(img, "/usr/local/bin/other", out); err == nil || !strings.Contains(err.Error(), "no layer holds /usr/local/bin/other") {
		t.Fatalf("got %v", err)
	}
}
