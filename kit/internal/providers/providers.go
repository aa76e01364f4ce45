// Package providers finds provider packages in a provider mirror, the way
// OpenTofu and Terraform lay them out, and hashes them as their lock files do.
//
// A filesystem mirror (what `tofu providers mirror` writes, or an unpacked
// tree) holds either
//
//	HOST/NAMESPACE/TYPE/terraform-provider-TYPE_VERSION_OS_ARCH.zip   (packed)
//	HOST/NAMESPACE/TYPE/VERSION/OS_ARCH/...                           (unpacked)
//
// and a network mirror serves HOST/NAMESPACE/TYPE/index.json and
// HOST/NAMESPACE/TYPE/VERSION.json over HTTPS, pointing at the zips.
package providers

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/mod/sumdb/dirhash"
)

// Address names one provider package.
type Address struct {
	Host      string // registry.opentofu.org
	Namespace string // hashicorp
	Type      string // kubernetes
	Version   string // 3.2.1
	Platform  string // linux_amd64
}

func (a Address) String() string {
	return fmt.Sprintf("%s/%s/%s %s (%s)", a.Host, a.Namespace, a.Type, a.Version, a.Platform)
}

// File is one file to carry, with its path relative to the mirror root.
type File struct {
	Rel  string
	Path string // on this machine
	Size int64
	Mode os.FileMode
}

// Package is a provider package found in a mirror.
type Package struct {
	Address Address
	// Rel is the package's path relative to the mirror root: the zip, or the unpacked folder.
	Rel   string
	Files []File
	// H1 is the lock file hash ("h1:…") of the package's contents.
	H1 string
	// cleanup removes a temporary download.
	cleanup func()
}

// Close removes temporary files the package was downloaded to.
func (p *Package) Close() {
	if p.cleanup != nil {
		p.cleanup()
	}
}

// Mirror finds packages.
type Mirror interface {
	Find(a Address) (*Package, error)
}

// Open opens a mirror: a folder, or an http(s) URL of a network mirror.
func Open(location string) (Mirror, error) {
	if strings.HasPrefix(location, "http://") || strings.HasPrefix(location, "https://") {
		if !strings.HasSuffix(location, "/") {
			location += "/"
		}
		base, err := url.Parse(location)
		if err != nil {
			return nil, fmt.Errorf("provider mirror URL %q: %w", location, err)
		}
		return &networkMirror{base: base, client: http.DefaultClient}, nil
	}
	st, err := os.Stat(location)
	if err != nil || !st.IsDir() {
		return nil, fmt.Errorf("provider mirror %q is not a folder (make one with: tofu providers mirror -platform=linux_amd64 DIR)", location)
	}
	return &fsMirror{root: location}, nil
}

type fsMirror struct{ root string }

func (m *fsMirror) Find(a Address) (*Package, error) {
	typeDir := filepath.Join(m.root, a.Host, a.Namespace, a.Type)
	unpacked := filepath.Join(typeDir, a.Version, a.Platform)
	if st, err := os.Stat(unpacked); err == nil && st.IsDir() {
		files, err := listFiles(m.root, unpacked)
		if err != nil {
			return nil, err
		}
		h1, err := dirhash.HashDir(unpacked, "", dirhash.Hash1)
		if err != nil {
			return nil, fmt.Errorf("hashing %s: %w", unpacked, err)
		}
		return &Package{Address: a, Rel: rel(m.root, unpacked), Files: files, H1: h1}, nil
	}
	zip := filepath.Join(typeDir, fmt.Sprintf("terraform-provider-%s_%s_%s.zip", a.Type, a.Version, a.Platform))
	if st, err := os.Stat(zip); err == nil && st.Mode().IsRegular() {
		h1, err := dirhash.HashZip(zip, dirhash.Hash1)
		if err != nil {
			return nil, fmt.Errorf("hashing %s: %w", zip, err)
		}
		return &Package{Address: a, Rel: rel(m.root, zip), Files: []File{{Rel: rel(m.root, zip), Path: zip, Size: st.Size(), Mode: 0o644}}, H1: h1}, nil
	}
	return nil, fmt.Errorf("provider %s is not in the mirror %s (looked for %s and %s); add it with: tofu providers mirror -platform=%s %s", a, m.root, unpacked, zip, a.Platform, m.root)
}

func rel(root, p string) string {
	r, _ := filepath.Rel(root, p)
	return filepath.ToSlash(r)
}

// listFiles lists the regular files below dir; anything else is refused.
func listFiles(root, dir string) ([]File, error) {
	var files []File
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if !info.Mode().IsRegular() {
			return fmt.Errorf("provider package file %s is not a regular file (%s); a mirror holds only files", p, info.Mode().Type())
		}
		files = append(files, File{Rel: rel(root, p), Path: p, Size: info.Size(), Mode: info.Mode().Perm()})
		return nil
	})
	sort.Slice(files, func(i, j int) bool { return files[i].Rel < files[j].Rel })
	return files, err
}

type networkMirror struct {
	base   *url.URL
	client *http.Client
}

func (m *networkMirror) getJSON(u *url.URL, v any) error {
	resp, err := m.client.Get(u.String())
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(v)
}

func (m *networkMirror) Find(a Address) (*Package, error) {
	typePath := path.Join(a.Host, a.Namespace, a.Type)
	versionURL := m.base.ResolveReference(&url.URL{Path: typePath + "/" + a.Version + ".json"})
	var doc struct {
		Archives map[string]struct {
			URL    string   `json:"url"`
			Hashes []string `json:"hashes"`
		} `json:"archives"`
	}
	if err := m.getJSON(versionURL, &doc); err != nil {
		return nil, fmt.Errorf("provider %s from the network mirror: %w", a, err)
	}
	arch, ok := doc.Archives[a.Platform]
	if !ok {
		return nil, fmt.Errorf("the network mirror has provider %s %s but not for %s", typePath, a.Version, a.Platform)
	}
	zipURL := versionURL.ResolveReference(&url.URL{Path: arch.URL})
	if u, err := url.Parse(arch.URL); err == nil && u.IsAbs() {
		zipURL = u
	}
	tmp, err := os.CreateTemp("", "airgap-kit-provider-*.zip")
	if err != nil {
		return nil, err
	}
	cleanup := func() { os.Remove(tmp.Name()) }
	resp, err := m.client.Get(zipURL.String())
	if err == nil && resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		err = fmt.Errorf("GET %s: %s", zipURL, resp.Status)
	}
	if err == nil {
		_, err = io.Copy(tmp, resp.Body)
		resp.Body.Close()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		cleanup()
		return nil, fmt.Errorf("downloading provider %s: %w", a, err)
	}
	h1, err := dirhash.HashZip(tmp.Name(), dirhash.Hash1)
	if err != nil {
		cleanup()
		return nil, fmt.Errorf("provider %s from %s is not a zip: %w", a, zipURL, err)
	}
	if len(arch.Hashes) > 0 && !contains(arch.Hashes, h1) {
		cleanup()
		return nil, fmt.Errorf("provider %s from %s hashes to %s, which the mirror's own %s does not list (%v)", a, zipURL, h1, versionURL, arch.Hashes)
	}
	st, _ := os.Stat(tmp.Name())
	name := fmt.Sprintf("%s/terraform-provider-%s_%s_%s.zip", typePath, a.Type, a.Version, a.Platform)
	return &Package{Address: a, Rel: name, Files: []File{{Rel: name, Path: tmp.Name(), Size: st.Size(), Mode: 0o644}}, H1: h1, cleanup: cleanup}, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// LockHashes reads the h1 hashes a .terraform.lock.hcl records, by provider address (host/namespace/type).
func LockHashes(data []byte) map[string][]string {
	out := map[string][]string{}
	var current string
	for _, line := range strings.Split(string(data), "\n") {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "provider \"") {
			current = strings.TrimSuffix(strings.TrimPrefix(t, "provider \""), "\" {")
			continue
		}
		if current != "" && strings.HasPrefix(t, "\"h1:") {
			out[current] = append(out[current], strings.Trim(strings.TrimSuffix(t, ","), "\""))
		}
		if t == "}" {
			current = ""
		}
	}
	return out
}
