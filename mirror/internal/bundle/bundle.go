// Package bundle makes offline bundles on the connected side: the module
// proxy tree and checksum database data that `go` itself downloaded for the
// given modules, plus extra files, sealed by SHA256SUMS. The layout is
// described in the module's README.md.
package bundle

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/airgap-go-constructs/mirror/internal/verify"
)

// ManifestName is the bundle's description; SHA256SUMS lists it, so the
// pinned hash covers it too.
const ManifestName = "manifest.json"

// FormatVersion changes when the layout changes incompatibly.
const FormatVersion = 1

// Toolchain is an extra file for files/<Name>.
type Toolchain struct{ Path, Name string }

// ParseToolchain parses -toolchain PATH[=NAME]; NAME defaults to PATH's
// base name. The last "=" splits, so a PATH may contain "=" if NAME is given.
func ParseToolchain(s string) (Toolchain, error) {
	t := Toolchain{Path: s, Name: filepath.Base(s)}
	if i := strings.LastIndexByte(s, '='); i >= 0 {
		t.Path, t.Name = s[:i], s[i+1:]
	}
	if t.Path == "" {
		return t, fmt.Errorf("-toolchain %q: empty path", s)
	}
	if why := verify.ValidPath(t.Name); why != "" {
		return t, fmt.Errorf("-toolchain %q: name %q: %s", s, t.Name, why)
	}
	return t, nil
}

// Options for Build.
type Options struct {
	Out        string      // must not exist, or be an empty directory
	ModuleDirs []string    // Go module directories whose `all` graph to bundle
	Toolchains []Toolchain // extra files
	Go         string      // go command; default "go"
	Env        []string    // environment for go; default os.Environ()
	Log        io.Writer   // progress; default discard
	Workers    int         // hashing workers; <= 0: one per CPU
}

// Manifest is manifest.json. Fields are declared in key order and slices
// sorted, so that encoding/json output is deterministic.
type Manifest struct {
	FileCount      int         `json:"file_count"` // files other than SHA256SUMS and manifest.json
	FormatVersion  int         `json:"format_version"`
	MainModules    []string    `json:"main_modules"`
	Modules        []Module    `json:"modules"`
	Sumdb          []SumdbHost `json:"sumdb"`
	ToolchainFiles []FileEntry `json:"toolchain_files"`
	TotalBytes     int64       `json:"total_bytes"` // of the FileCount files
}

// Module is one module version in the proxy tree.
type Module struct {
	Files   []string `json:"files"` // which of info, mod, zip are present
	Path    string   `json:"path"`
	Version string   `json:"version"`
}

// SumdbHost describes one checksum database's data in the bundle.
type SumdbHost struct {
	Host     string `json:"host"`
	Lookups  int    `json:"lookups"`
	Tiles    int    `json:"tiles"`
	TreeSize int64  `json:"tree_size"` // of the latest note; 0 if none
}

// FileEntry is one file under files/.
type FileEntry struct {
	Name   string `json:"name"`
	Path   string `json:"path"`
	Sha256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// Build makes the bundle and returns the sha256 (hex) of its SHA256SUMS,
// which is also written to Out+".sha256sums-hash". It writes into a sibling
// staging directory and renames it into place at the end, so a failed or
// interrupted run leaves no half bundle, and it removes its temporary GOPATH.
func Build(ctx context.Context, o Options) (string, error) {
	if len(o.ModuleDirs) == 0 && len(o.Toolchains) == 0 {
		return "", errors.New("nothing to bundle: give module directories and/or -toolchain files")
	}
	if o.Go == "" {
		o.Go = "go"
	}
	if o.Env == nil {
		o.Env = os.Environ()
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	out, err := filepath.Abs(o.Out)
	if err != nil {
		return "", err
	}
	if err := checkOut(out); err != nil {
		return "", err
	}
	names := map[string]bool{}
	for _, t := range o.Toolchains {
		if names[t.Name] {
			return "", fmt.Errorf("-toolchain: name %q given twice", t.Name)
		}
		names[t.Name] = true
	}
	for _, t := range o.Toolchains {
		if fi, err := os.Stat(t.Path); err != nil {
			return "", fmt.Errorf("-toolchain: %v", err)
		} else if !fi.Mode().IsRegular() {
			return "", fmt.Errorf("-toolchain: %s is not a regular file", t.Path)
		}
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return "", err
	}
	staging, err := os.MkdirTemp(filepath.Dir(out), "."+filepath.Base(out)+".tmp-*")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(staging) // a no-op after the rename
	if err := os.Chmod(staging, 0o755); err != nil {
		return "", err
	}

	g := &goRunner{bin: o.Go, env: o.Env}
	mains, err := fetch(ctx, g, o, staging)
	if err != nil {
		return "", err
	}
	for _, t := range o.Toolchains {
		fmt.Fprintf(o.Log, "offline-bundle: adding %s as files/%s\n", t.Path, t.Name)
		if err := verify.CopyFile(t.Path, filepath.Join(staging, "files", filepath.FromSlash(t.Name)), 0o644, nil); err != nil {
			return "", err
		}
	}

	hash, m, err := seal(ctx, staging, mains, o.Workers)
	if err != nil {
		return "", err
	}
	// The same check the server makes: a bundle that would not verify here
	// must not leave this machine.
	res, err := verify.Verify(ctx, staging, hash, o.Workers)
	if err != nil {
		return "", err
	}
	if !res.OK() {
		return "", fmt.Errorf("self-check of the new bundle failed: %v", res.Problems)
	}
	if err := os.Remove(out); err != nil && !os.IsNotExist(err) {
		return "", err
	}
	if err := os.Rename(staging, out); err != nil {
		return "", err
	}
	if err := os.WriteFile(out+".sha256sums-hash", []byte(hash+"\n"), 0o644); err != nil {
		return "", err
	}
	fmt.Fprintf(o.Log, "offline-bundle: wrote %s: %d modules, %d files, %d bytes (verified in %s)\n",
		out, len(m.Modules), m.FileCount+2, m.TotalBytes, res.Elapsed.Round(1e6))
	return hash, nil
}

func checkOut(out string) error {
	fi, err := os.Stat(out)
	if os.IsNotExist(err) {
		return nil
	} else if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("-out %s exists and is not a directory", out)
	}
	entries, err := os.ReadDir(out)
	if err != nil {
		return err
	}
	if len(entries) > 0 {
		return fmt.Errorf("refusing to write into non-empty -out %s", out)
	}
	return nil
}

// fetch downloads into a fresh GOPATH, so that only these modules' graphs
// end up in the bundle, and copies the proxy tree into staging.
func fetch(ctx context.Context, g *goRunner, o Options, staging string) ([]string, error) {
	if len(o.ModuleDirs) == 0 {
		return nil, nil
	}
	gopath, err := os.MkdirTemp("", "offline-bundle-gopath-*")
	if err != nil {
		return nil, err
	}
	defer removeTree(gopath)
	modcache := filepath.Join(gopath, "pkg", "mod")
	download := filepath.Join(modcache, "cache", "download")
	gp := g.withGOPATH(gopath, modcache)

	var mains []string
	for _, dir := range o.ModuleDirs {
		mp, err := gp.modulePath(ctx, dir)
		if err != nil {
			return nil, err
		}
		mains = append(mains, mp)
		fmt.Fprintf(o.Log, "offline-bundle: go mod download all for %s (%s)\n", mp, dir)
		mods, err := gp.download(ctx, dir)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(o.Log, "offline-bundle:   %d modules\n", len(mods))
	}

	versions, err := cachedVersions(download)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(o.Log, "offline-bundle: checksum database lookups for %d module versions\n", len(versions))
	if err := gp.lookupSums(ctx, versions); err != nil {
		return nil, err
	}
	sumdbCache := filepath.Join(download, "sumdb")
	if err := unifyLookups(sumdbCache, filepath.Join(gopath, "pkg", "sumdb")); err != nil {
		return nil, err
	}
	if _, err := os.Stat(sumdbCache); err == nil {
		// Look everything up again against the one tree, from an empty
		// sumdb state (a fresh GOPATH, same module cache), as an offline
		// client will: go fetches the tiles that tree needs, and only those.
		fresh, err := os.MkdirTemp("", "offline-bundle-gopath-*")
		if err != nil {
			return nil, err
		}
		defer removeTree(fresh)
		fmt.Fprintf(o.Log, "offline-bundle: fetching checksum database tiles for the latest tree\n")
		if err := g.withGOPATH(fresh, modcache).lookupSums(ctx, versions); err != nil {
			return nil, err
		}
		if err := sameLatest(filepath.Join(gopath, "pkg", "sumdb"), filepath.Join(fresh, "pkg", "sumdb")); err != nil {
			return nil, err
		}
	}
	if err := copyProxyTree(download, staging); err != nil {
		return nil, err
	}
	if err := copyLatestNotes(filepath.Join(gopath, "pkg", "sumdb"), staging); err != nil {
		return nil, err
	}
	slices.Sort(mains)
	return slices.Compact(mains), nil
}

func sameLatest(a, b string) error {
	hosts, err := os.ReadDir(a)
	if os.IsNotExist(err) {
		return nil
	} else if err != nil {
		return err
	}
	for _, h := range hosts {
		x, err1 := os.ReadFile(filepath.Join(a, h.Name(), "latest"))
		y, err2 := os.ReadFile(filepath.Join(b, h.Name(), "latest"))
		if err1 == nil && (err2 != nil || !bytes.Equal(x, y)) {
			return fmt.Errorf("checksum database %s: the latest tree changed while unifying lookups", h.Name())
		}
	}
	return nil
}

// cachedVersions lists path@version for every .mod in the download cache:
// the whole graph go looked at, including go.mod-only versions.
func cachedVersions(download string) ([]string, error) {
	var out []string
	if _, err := os.Stat(download); os.IsNotExist(err) {
		return nil, nil
	}
	err := filepath.WalkDir(download, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(download, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() && rel == "sumdb" {
			return filepath.SkipDir
		}
		if mod, file, ok := splitProxyPath(rel); ok && strings.HasSuffix(file, ".mod") {
			mp, ok1 := unescape(mod)
			v, ok2 := unescape(strings.TrimSuffix(file, ".mod"))
			if !ok1 || !ok2 {
				return fmt.Errorf("cannot unescape %s", rel)
			}
			out = append(out, mp+"@"+v)
		}
		return nil
	})
	slices.Sort(out)
	return out, err
}

// splitProxyPath splits "<escaped module>/@v/<file>".
func splitProxyPath(rel string) (mod, file string, ok bool) {
	i := strings.LastIndex(rel, "/@v/")
	if i <= 0 || strings.Contains(rel[i+4:], "/") {
		return "", "", false
	}
	return rel[:i], rel[i+4:], true
}

// unescape undoes Go's module path escaping ("!x" for "X").
func unescape(s string) (string, bool) {
	var b strings.Builder
	bang := false
	for _, r := range s {
		switch {
		case bang:
			if r < 'a' || r > 'z' {
				return "", false
			}
			b.WriteRune(r - 'a' + 'A')
			bang = false
		case r == '!':
			bang = true
		case r >= 'A' && r <= 'Z':
			return "", false
		default:
			b.WriteRune(r)
		}
	}
	if bang {
		return "", false
	}
	return b.String(), true
}

// skipped are go's bookkeeping files, not part of the proxy protocol.
func skipped(name string) bool {
	for _, suf := range []string{".lock", ".partial", ".ziphash", ".tmp"} {
		if strings.HasSuffix(name, suf) {
			return true
		}
	}
	return false
}

// copyProxyTree copies cache/download as is: it already is the proxy
// protocol's layout, and its sumdb/ subtree is the bundle's sumdb/.
func copyProxyTree(download, staging string) error {
	if _, err := os.Stat(download); os.IsNotExist(err) {
		return nil // a module with no dependencies
	}
	return filepath.WalkDir(download, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || skipped(d.Name()) {
			return err
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s: not a regular file in the module cache", p)
		}
		rel, _ := filepath.Rel(download, p)
		if rel == verify.SumsName || rel == ManifestName || rel == "files" || strings.HasPrefix(rel, "files"+string(filepath.Separator)) {
			return fmt.Errorf("%s: module cache entry collides with the bundle's own files", p)
		}
		return verify.CopyFile(p, filepath.Join(staging, rel), 0o644, nil)
	})
}

// copyLatestNotes adds GOPATH/pkg/sumdb/<host>/latest for each database
// the bundle has data for, so the mirror can serve /sumdb/<host>/latest.
func copyLatestNotes(sumdbConfig, staging string) error {
	hosts, err := os.ReadDir(filepath.Join(staging, "sumdb"))
	if os.IsNotExist(err) {
		return nil
	} else if err != nil {
		return err
	}
	for _, h := range hosts {
		src := filepath.Join(sumdbConfig, h.Name(), "latest")
		if _, err := os.Stat(src); os.IsNotExist(err) {
			continue
		}
		if err := verify.CopyFile(src, filepath.Join(staging, "sumdb", h.Name(), "latest"), 0o644, nil); err != nil {
			return err
		}
	}
	return nil
}

// removeTree deletes a GOPATH even if go left read-only directories in it.
func removeTree(dir string) {
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			os.Chmod(p, 0o755)
		}
		return nil
	})
	os.RemoveAll(dir)
}

// listFiles returns every regular file under dir by slash path, except
// SHA256SUMS; anything else (symlinks, devices) is an error when sealing.
func listFiles(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s: not a regular file", p)
		}
		if why := verify.ValidPath(rel); why != "" {
			return fmt.Errorf("%s: %s", p, why)
		}
		if rel != verify.SumsName {
			out = append(out, rel)
		}
		return nil
	})
	slices.Sort(out)
	return out, err
}

// seal writes manifest.json and SHA256SUMS for the files in dir and returns
// the hash of SHA256SUMS. Every file is hashed once; manifest.json, which
// needs the other hashes, is hashed from memory.
func seal(ctx context.Context, dir string, mains []string, workers int) (string, *Manifest, error) {
	rels, err := listFiles(dir)
	if err != nil {
		return "", nil, err
	}
	rels = slices.DeleteFunc(rels, func(r string) bool { return r == ManifestName })
	sums, sizes, err := hashAll(ctx, dir, rels, workers)
	if err != nil {
		return "", nil, err
	}
	m := manifest(dir, mains, sums, sizes)
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return "", nil, err
	}
	data = append(data, '\n')
	if err := os.WriteFile(filepath.Join(dir, ManifestName), data, 0o644); err != nil {
		return "", nil, err
	}
	sums = append(sums, verify.Sum{Path: ManifestName, Hash: verify.HashBytes(data)})
	hash, err := writeSums(dir, sums)
	return hash, m, err
}

func hashAll(ctx context.Context, dir string, rels []string, workers int) ([]verify.Sum, []int64, error) {
	paths := make([]string, len(rels))
	for i, r := range rels {
		paths[i] = filepath.Join(dir, filepath.FromSlash(r))
	}
	hashed := verify.HashFiles(ctx, paths, nil, workers)
	sums := make([]verify.Sum, len(rels))
	sizes := make([]int64, len(rels))
	for i, h := range hashed {
		if h.Err != nil {
			return nil, nil, h.Err
		}
		sums[i] = verify.Sum{Path: rels[i], Hash: h.Sum}
		sizes[i] = h.Size
	}
	return sums, sizes, ctx.Err()
}

func writeSums(dir string, sums []verify.Sum) (string, error) {
	data := verify.FormatSums(sums)
	if err := os.WriteFile(filepath.Join(dir, verify.SumsName), data, 0o644); err != nil {
		return "", err
	}
	h := verify.HashBytes(data)
	return hex.EncodeToString(h[:]), nil
}

// Seal (re)writes SHA256SUMS over every file in dir as it is now, leaving
// manifest.json alone, and returns its hash. It is for tests and for
// operators who deliberately edit a bundle; it vouches for nothing.
func Seal(ctx context.Context, dir string, workers int) (string, error) {
	rels, err := listFiles(dir)
	if err != nil {
		return "", err
	}
	sums, _, err := hashAll(ctx, dir, rels, workers)
	if err != nil {
		return "", err
	}
	return writeSums(dir, sums)
}

func manifest(dir string, mains []string, sums []verify.Sum, sizes []int64) *Manifest {
	m := &Manifest{
		FormatVersion: FormatVersion, MainModules: mains, Modules: []Module{},
		Sumdb: []SumdbHost{}, ToolchainFiles: []FileEntry{},
	}
	if m.MainModules == nil {
		m.MainModules = []string{}
	}
	mods := map[[2]string][]string{}
	hosts := map[string]*SumdbHost{}
	for i, s := range sums {
		m.FileCount++
		m.TotalBytes += sizes[i]
		switch {
		case strings.HasPrefix(s.Path, "files/"):
			m.ToolchainFiles = append(m.ToolchainFiles, FileEntry{
				Name: strings.TrimPrefix(s.Path, "files/"), Path: s.Path,
				Sha256: hex.EncodeToString(s.Hash[:]), Size: sizes[i],
			})
		case strings.HasPrefix(s.Path, "sumdb/"):
			host, rest, _ := strings.Cut(strings.TrimPrefix(s.Path, "sumdb/"), "/")
			h := hosts[host]
			if h == nil {
				h = &SumdbHost{Host: host}
				hosts[host] = h
			}
			switch {
			case strings.HasPrefix(rest, "lookup/"):
				h.Lookups++
			case strings.HasPrefix(rest, "tile/"):
				h.Tiles++
			case rest == "latest":
				if note, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(s.Path))); err == nil {
					h.TreeSize, _ = treeSize(note)
				}
			}
		default:
			mod, file, ok := splitProxyPath(s.Path)
			if !ok || file == "list" {
				continue
			}
			ext := path.Ext(file)
			switch ext {
			case ".info", ".mod", ".zip":
			default:
				continue
			}
			mp, ok1 := unescape(mod)
			v, ok2 := unescape(strings.TrimSuffix(file, ext))
			if ok1 && ok2 {
				k := [2]string{mp, v}
				mods[k] = append(mods[k], ext[1:])
			}
		}
	}
	for k, files := range mods {
		slices.Sort(files)
		m.Modules = append(m.Modules, Module{Path: k[0], Version: k[1], Files: files})
	}
	slices.SortFunc(m.Modules, func(a, b Module) int {
		if c := strings.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		return strings.Compare(a.Version, b.Version)
	})
	for _, h := range hosts {
		m.Sumdb = append(m.Sumdb, *h)
	}
	slices.SortFunc(m.Sumdb, func(a, b SumdbHost) int { return strings.Compare(a.Host, b.Host) })
	slices.SortFunc(m.ToolchainFiles, func(a, b FileEntry) int { return strings.Compare(a.Path, b.Path) })
	return m
}
