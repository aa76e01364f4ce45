package providers

import (
	"archive/zip"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/dirhash"
)

// packedMirror writes what `tofu providers mirror` writes for one provider:
// the zip, index.json and VERSION.json (a network mirror's layout too).
func packedMirror(t *testing.T, hashes []string) (root, zipPath string) {
	root = t.TempDir()
	dir := filepath.Join(root, "registry.opentofu.org/hashicorp/fake")
	os.MkdirAll(dir, 0o755)
	zipPath = filepath.Join(dir, "terraform-provider-fake_1.0.0_linux_arm64.zip")
	f, _ := os.Create(zipPath)
	zw := zip.NewWriter(f)
	w, _ := zw.Create("terraform-provider-fake_v1.0.0")
	w.Write([]byte(strings.Repeat("arm64 provider ", 200)))
	zw.Close()
	f.Close()
	if hashes == nil {
		h, _ := dirhash.HashZip(zipPath, dirhash.Hash1)
		hashes = []string{h}
	}
	os.WriteFile(filepath.Join(dir, "index.json"), []byte(`{"versions":{"1.0.0":{}}}`), 0o644)
	doc, _ := json.Marshal(map[string]any{"archives": map[string]any{"linux_arm64": map[string]any{"url": "terraform-provider-fake_1.0.0_linux_arm64.zip", "hashes": hashes}}})
	os.WriteFile(filepath.Join(dir, "1.0.0.json"), doc, 0o644)
	return root, zipPath
}

var arm64 = Address{Host: "registry.opentofu.org", Namespace: "hashicorp", Type: "fake", Version: "1.0.0", Platform: "linux_arm64"}

func TestFilesystemMirrorPackedAndUnpacked(t *testing.T) {
	root, zipPath := packedMirror(t, nil)
	m, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	pkg, err := m.Find(arm64)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := dirhash.HashZip(zipPath, dirhash.Hash1)
	if pkg.H1 != want || pkg.Rel != "registry.opentofu.org/hashicorp/fake/terraform-provider-fake_1.0.0_linux_arm64.zip" || len(pkg.Files) != 1 {
		t.Fatalf("packed: %+v", pkg)
	}
	unpacked := filepath.Join(root, "registry.opentofu.org/hashicorp/fake/1.0.0/linux_amd64")
	os.MkdirAll(unpacked, 0o755)
	os.WriteFile(filepath.Join(unpacked, "terraform-provider-fake_v1.0.0"), []byte("amd64"), 0o755)
	amd := arm64
	amd.Platform = "linux_amd64"
	pkg, err = m.Find(amd)
	if err != nil || pkg.Rel != "registry.opentofu.org/hashicorp/fake/1.0.0/linux_amd64" {
		t.Fatalf("unpacked: %+v %v", pkg, err)
	}
	missing := arm64
	missing.Version = "9.9.9"
	if _, err := m.Find(missing); err == nil || !strings.Contains(err.Error(), "tofu providers mirror -platform=linux_arm64") {
		t.Fatalf("missing: %v", err)
	}
	os.Symlink("/etc/passwd", filepath.Join(unpacked, "link"))
	if _, err := m.Find(amd); err == nil || !strings.Contains(err.Error(), "is not a regular file") {
		t.Fatalf("a symlink in a package was accepted: %v", err)
	}
}

func TestNetworkMirrorDownloadsAndChecksTheListedHash(t *testing.T) {
	root, zipPath := packedMirror(t, nil)
	srv := httptest.NewServer(http.FileServer(http.Dir(root)))
	defer srv.Close()
	m, _ := Open(srv.URL)
	pkg, err := m.Find(arm64)
	if err != nil {
		t.Fatal(err)
	}
	defer pkg.Close()
	want, _ := dirhash.HashZip(zipPath, dirhash.Hash1)
	if pkg.H1 != want {
		t.Fatalf("h1 %s, want %s", pkg.H1, want)
	}
	tmp := pkg.Files[0].Path
	pkg.Close()
	if _, err := os.Stat(tmp); !os.IsNotExist(err) {
		t.Fatalf("the download was not removed: %v", err)
	}

	bad, _ := packedMirror(t, []string{"h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="})
	srv2 := httptest.NewServer(http.FileServer(http.Dir(bad)))
	defer srv2.Close()
	m2, _ := Open(srv2.URL)
	if _, err := m2.Find(arm64); err == nil || !strings.Contains(err.Error(), "does not list") {
		t.Fatalf("a zip whose hash the mirror does not list was accepted: %v", err)
	}
}

func TestLockHashes(t *testing.T) {
	lock := "provider \"registry.opentofu.org/hashicorp/kubernetes\" {\n  version     = \"3.2.1\"\n  hashes = [\n    \"h1:a=\",\n    \"zh:b\",\n  ]\n}\n\nprovider \"registry.opentofu.org/kreuzwerker/docker\" {\n  hashes = [\n    \"h1:c=\",\n  ]\n}\n"
	got := LockHashes([]byte(lock))
	if strings.Join(got["registry.opentofu.org/hashicorp/kubernetes"], ",") != "h1:a=" || strings.Join(got["registry.opentofu.org/kreuzwerker/docker"], ",") != "h1:c=" {
		t.Fatalf("%v", got)
	}
}
