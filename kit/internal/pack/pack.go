package pack

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/airgap-go-constructs/kit/internal/archive"
	"github.com/airgap-go-constructs/kit/internal/hashing"
	"github.com/airgap-go-constructs/kit/internal/images"
	"github.com/airgap-go-constructs/kit/internal/progress"
	"github.com/airgap-go-constructs/kit/internal/providers"
	"github.com/airgap-go-constructs/kit/internal/sign"
	"github.com/airgap-go-constructs/kit/internal/sums"
)

// Hosts the provider trees are carried under, by CLI.
var cliHosts = map[string]string{"tofu": "registry.opentofu.org", "terraform": "registry.terraform.io"}

// Options for Pack.
type Options struct {
	// CdktfOut is the synthesized app (cdktf.out).
	CdktfOut string
	// Out is the archive's path; parts get .000, .001, … appended.
	Out string
	// Key is the OpenSSH private key that signs SHA256SUMS.
	Key string
	// ProviderMirror is a folder or a network mirror URL.
	ProviderMirror string
	// Overrides move sources to where they are read from on this side.
	Overrides []images.Override
	// PlainHTTP hosts are read over HTTP.
	PlainHTTP []string
	// Platforms to carry; empty means the union of the stacks' platforms.
	Platforms []string
	// CLIs whose provider trees to carry (tofu, terraform).
	CLIs []string
	// Binaries maps a platform (linux/amd64) to a static airgap-kit binary for the far side.
	Binaries map[string]string
	// Stacks to carry; empty means all. A stack's dependencies must be carried too.
	Stacks   []string
	Archive  archive.Options
	Progress *progress.Reporter
}

// Result is what Pack wrote.
type Result struct {
	Paths []string
	// SHA256SumsHash is the pin: the sha256 of the archive's SHA256SUMS, which
	// covers every other file (and which the signature covers too).
	SHA256SumsHash string
	Bytes          int64
	Manifest       *Manifest
}

// entry is one file of the archive before it is written.
type entry struct {
	name   string
	mode   int64
	size   int64
	sha256 string
	open   func(context.Context) (io.ReadCloser, error)
}

// Pack reads a synthesized app and writes the signed carry archive.
func Pack(ctx context.Context, opts Options) (*Result, error) {
	rep := opts.Progress

	signer, err := sign.LoadSigner(opts.Key)
	if err != nil {
		return nil, err
	}
	stacks, err := readStacks(opts.CdktfOut)
	if err != nil {
		return nil, err
	}
	if stacks, err = selectStacks(stacks, opts.Stacks); err != nil {
		return nil, err
	}
	if len(stacks) == 0 {
		return nil, fmt.Errorf("%s has no stacks", opts.CdktfOut)
	}
	clis := opts.CLIs
	if len(clis) == 0 {
		clis = []string{"tofu"}
	}
	for _, c := range clis {
		if cliHosts[c] == "" {
			return nil, fmt.Errorf("--cli %q is neither tofu nor terraform", c)
		}
	}

	m := &Manifest{FormatVersion: FormatV1}
	var files []entry
	platformSet := map[string]bool{}
	var wantImages []wantedImage
	type provKey struct{ source, version string }
	provPlatforms := map[provKey]map[string]bool{}
	lockHashes := map[string]map[string][]string{} // stack -> address -> h1s
	for i := range stacks {
		s := &stacks[i]
		dir := filepath.Join(opts.CdktfOut, filepath.FromSlash(s.Dir))
		stackFiles, err := stackEntries(dir, path.Join("cdktf.out", s.Dir))
		if err != nil {
			return nil, fmt.Errorf("stack %s: %w", s.Name, err)
		}
		files = append(files, stackFiles...)
		var si StackImages
		if err := readJSON(filepath.Join(dir, "offline", "images.json"), &si); err != nil {
			return nil, fmt.Errorf("stack %s: %w (synthesize it with airgap-go-constructs 0.3 or newer, whose AirgapStack writes the kit)", s.Name, err)
		}
		var sp StackProviders
		if err := readJSON(filepath.Join(dir, "offline", "providers.json"), &sp); err != nil {
			return nil, fmt.Errorf("stack %s: %w", s.Name, err)
		}
		stackPlatforms := si.Platforms
		if len(opts.Platforms) > 0 {
			stackPlatforms = opts.Platforms
		}
		for _, p := range stackPlatforms {
			platformSet[normalizePlatform(p)] = true
		}
		for _, img := range si.Images {
			if img.Use == "build" && img.Digest == "" {
				s.Builds = append(s.Builds, img.Target)
				continue
			}
			if img.Digest == "" {
				// A reference known after apply, made by a stack that builds it on the far side.
				continue
			}
			plats := img.Platforms
			if len(plats) == 0 {
				plats = stackPlatforms
			}
			wantImages = append(wantImages, wantedImage{StackImage: img, platforms: plats})
		}
		for _, p := range sp.Providers {
			k := provKey{p.Source, p.Version}
			if provPlatforms[k] == nil {
				provPlatforms[k] = map[string]bool{}
			}
			// Providers run where tofu runs, which need not be the nodes' platform.
			for _, pl := range sp.Platforms {
				provPlatforms[k][strings.ReplaceAll(normalizePlatform(pl), "/", "_")] = true
			}
		}
		if len(sp.Providers) > 0 {
			lock, err := os.ReadFile(filepath.Join(dir, ".terraform.lock.hcl"))
			if err != nil {
				return nil, fmt.Errorf("stack %s has no .terraform.lock.hcl, so tofu init on the far side could not verify its providers; synthesize with a provider mirror (AirgapStack's providerMirror, or AIRGAP_PROVIDER_MIRROR)", s.Name)
			}
			lockHashes[s.Name] = providers.LockHashes(lock)
		}
	}
	for p := range platformSet {
		m.Platforms = append(m.Platforms, p)
	}
	sort.Strings(m.Platforms)
	m.Stacks = stacks

	// Images: resolve every graph first, so SHA256SUMS can lead the archive.
	client, err := images.NewClient(opts.PlainHTTP)
	if err != nil {
		return nil, err
	}
	graphs, err := resolveImages(ctx, client, mergeImages(wantImages), opts.Overrides, m, rep)
	if err != nil {
		return nil, err
	}

	// Providers, for every platform and CLI, checked against each stack's lock file.
	if len(provPlatforms) > 0 {
		if opts.ProviderMirror == "" {
			return nil, fmt.Errorf("the stacks need providers, but no --provider-mirror was given (a folder written by tofu providers mirror, or a network mirror URL)")
		}
		mirror, err := providers.Open(opts.ProviderMirror)
		if err != nil {
			return nil, err
		}
		keys := make([]provKey, 0, len(provPlatforms))
		for k := range provPlatforms {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return keys[i].source+keys[i].version < keys[j].source+keys[j].version })
		for _, k := range keys {
			ns, typ, _ := strings.Cut(k.source, "/")
			plats := sortedKeys(provPlatforms[k])
			for _, cli := range clis {
				for _, pl := range plats {
					a := providers.Address{Host: cliHosts[cli], Namespace: ns, Type: typ, Version: k.version, Platform: pl}
					pkg, err := mirror.Find(a)
					if err != nil {
						return nil, err
					}
					defer pkg.Close()
					for stack, hashes := range lockHashes {
						lockAddr := fmt.Sprintf("registry.opentofu.org/%s/%s", ns, typ)
						if h := hashes[lockAddr]; len(h) > 0 && !contains(h, pkg.H1) {
							return nil, fmt.Errorf("provider %s in the mirror hashes to %s, which stack %s's .terraform.lock.hcl does not list (%s): the mirror holds another build than the one locked at synth", a, pkg.H1, stack, strings.Join(h, ", "))
						}
					}
					m.Providers = append(m.Providers, ManifestProv{Source: k.source, Version: k.version, Platform: pl, Path: pkg.Rel, H1: pkg.H1})
					for _, f := range pkg.Files {
						e, err := fileEntry(f.Path, path.Join(ProvidersDir, f.Rel), int64(f.Mode|0o444))
						if err != nil {
							return nil, err
						}
						files = append(files, e)
					}
				}
			}
		}
	}

	// The far side's own binaries.
	for _, pl := range sortedKeys(stringSet(opts.Binaries)) {
		name := path.Join(BinDir, strings.ReplaceAll(normalizePlatform(pl), "/", "-"), "airgap-kit")
		e, err := fileEntry(opts.Binaries[pl], name, 0o755)
		if err != nil {
			return nil, fmt.Errorf("binary for %s: %w", pl, err)
		}
		files = append(files, e)
		m.Binaries = append(m.Binaries, ManifestBin{Platform: normalizePlatform(pl), Path: name})
	}

	ociEntries, err := ociLayout(graphs, m, client)
	if err != nil {
		return nil, err
	}
	files = append(files, ociEntries...)

	m.Files = len(files) + 1
	for _, f := range files {
		m.Bytes += f.size
	}
	manifestJSON, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	manifestJSON = append(manifestJSON, '\n')
	m.Bytes += int64(len(manifestJSON))
	all := append([]entry{bytesEntry(ManifestName, 0o644, manifestJSON)}, files...)
	list := make([]sums.Entry, 0, len(all))
	for _, e := range all {
		list = append(list, sums.Entry{Path: e.name, SHA256: e.sha256})
	}
	sumsData, err := sums.Format(list)
	if err != nil {
		return nil, err
	}
	sig, err := signer.Sign(sumsData)
	if err != nil {
		return nil, fmt.Errorf("signing SHA256SUMS: %w", err)
	}

	w, err := archive.Create(opts.Out, opts.Archive)
	if err != nil {
		return nil, err
	}
	rep.Begin("pack", m.Bytes)
	if err := writeAll(ctx, w, append([]entry{bytesEntry(SumsName, 0o644, sumsData), bytesEntry(SignatureName, 0o644, sig)}, all...), rep); err != nil {
		w.Abort()
		return nil, err
	}
	paths, err := w.Close()
	if err != nil {
		return nil, err
	}
	pin := sha256.Sum256(sumsData)
	res := &Result{Paths: paths, SHA256SumsHash: hex.EncodeToString(pin[:]), Bytes: w.Written(), Manifest: m}
	rep.End(fmt.Sprintf("%d images, %d provider packages, %d stacks; signed by %s", len(m.Images), len(m.Providers), len(m.Stacks), signer.Fingerprint()))
	return res, nil
}

// selectStacks keeps the named stacks, refusing one whose dependency is left out.
func selectStacks(all []ManifestStack, names []string) ([]ManifestStack, error) {
	if len(names) == 0 {
		return all, nil
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	var out []ManifestStack
	for _, s := range all {
		if !want[s.Name] {
			continue
		}
		delete(want, s.Name)
		for _, d := range s.DependsOn {
			if !contains(names, d) {
				return nil, fmt.Errorf("stack %s needs stack %s (it reads %s's outputs), which -stacks leaves out: carry both, or build outside the gap so %s needs nothing from it (see airgap-kit built-images)", s.Name, d, d, s.Name)
			}
		}
		out = append(out, s)
	}
	for n := range want {
		return nil, fmt.Errorf("-stacks names %q, which the synthesized app does not have", n)
	}
	return out, nil
}

type wantedImage struct {
	StackImage
	platforms []string
}

// mergeImages folds images wanted by several stacks or constructs into one each, by target.
func mergeImages(in []wantedImage) []wantedImage {
	byTarget := map[string]*wantedImage{}
	var order []string
	for _, w := range in {
		key := w.Target
		if cur, ok := byTarget[key]; ok {
			cur.NeededBy = union(cur.NeededBy, w.NeededBy)
			cur.platforms = union(cur.platforms, w.platforms)
			cur.Referrers = union(cur.Referrers, w.Referrers)
			continue
		}
		c := w
		c.NeededBy = union(nil, w.NeededBy)
		byTarget[key] = &c
		order = append(order, key)
	}
	sort.Strings(order)
	out := make([]wantedImage, 0, len(order))
	for _, k := range order {
		out = append(out, *byTarget[k])
	}
	return out
}

type resolved struct {
	image ManifestImage
	graph *images.Graph
	read  images.Ref
}

func resolveImages(ctx context.Context, client *images.Client, want []wantedImage, overrides []images.Override, m *Manifest, rep *progress.Reporter) ([]resolved, error) {
	var out []resolved
	for _, w := range want {
		target, err := images.ParseRef(w.Target)
		if err != nil {
			return nil, err
		}
		if target.Digest == "" {
			target.Digest = w.Digest
		}
		if target.Digest != w.Digest {
			return nil, fmt.Errorf("image %s: its digest disagrees with the kit's %s", w.Target, w.Digest)
		}
		sourceText := w.Source
		if sourceText == "" {
			sourceText = target.String()
		}
		source, err := images.ParseRef(sourceText)
		if err != nil {
			return nil, err
		}
		source.Digest = target.Digest
		read := images.Apply(overrides, source)
		repo, err := client.Repository(read.Name())
		if err != nil {
			return nil, err
		}
		var plats []images.Platform
		for _, p := range w.platforms {
			pl, err := images.ParsePlatform(p)
			if err != nil {
				return nil, err
			}
			plats = append(plats, pl)
		}
		g, err := images.Resolve(ctx, repo, read, plats)
		if err != nil {
			return nil, fmt.Errorf("image %s (needed by %s): %w", source, strings.Join(w.NeededBy, ", "), err)
		}
		for _, t := range w.Referrers {
			if missing := g.MissingReferrers(t); len(missing) > 0 {
				return nil, fmt.Errorf("image %s (needed by %s): the kit lists a %s referrer for it, but %s has none: apply the image stack again, or attach them (GoImage's sbom)", source, strings.Join(w.NeededBy, ", "), t, strings.Join(missing, ", "))
			}
		}
		img := ManifestImage{
			Source: source.String(), Target: target.String(), Digest: g.Root.Digest.String(), MediaType: g.Root.MediaType,
			Index: images.IsIndex(g.Root.MediaType), Platforms: g.Platforms, Skipped: g.Skipped, Referrers: g.Referrers, NeededBy: w.NeededBy,
		}
		if read.Name() != source.Name() {
			img.ReadFrom = read.String()
		}
		for _, mf := range g.Manifests {
			img.Manifests = append(img.Manifests, mf.Descriptor.Digest.String())
			img.Bytes += mf.Descriptor.Size
		}
		for _, b := range g.Blobs {
			img.Blobs = append(img.Blobs, b.Digest.String())
			img.Bytes += b.Size
		}
		if len(g.Skipped) > 0 {
			rep.Note(fmt.Sprintf("note: %s is an index; carrying %s, leaving out %s (name them with --platform to carry them)", target, strings.Join(g.Platforms, ", "), strings.Join(g.Skipped, ", ")))
		}
		m.Images = append(m.Images, img)
		out = append(out, resolved{image: img, graph: g, read: read})
	}
	return out, nil
}

// ociLayout lays every graph out as an OCI image layout: blobs first, then
// manifests children before parents, then index.json naming each image.
func ociLayout(graphs []resolved, m *Manifest, client *images.Client) ([]entry, error) {
	var out []entry
	seen := map[string]bool{}
	add := func(e entry) {
		if !seen[e.name] {
			seen[e.name] = true
			out = append(out, e)
		}
	}
	add(bytesEntry(path.Join(OCIDir, "oci-layout"), 0o644, []byte(`{"imageLayoutVersion":"1.0.0"}`+"\n")))
	for _, r := range graphs {
		repo, err := client.Repository(r.read.Name())
		if err != nil {
			return nil, err
		}
		for _, b := range r.graph.Blobs {
			desc := b
			add(entry{
				name: blobName(desc.Digest.String()), mode: 0o644, size: desc.Size, sha256: desc.Digest.Encoded(),
				open: func(ctx context.Context) (io.ReadCloser, error) { return repo.Fetch(ctx, desc) },
			})
		}
	}
	for _, r := range graphs {
		for _, mf := range r.graph.Manifests {
			add(bytesEntry(blobName(mf.Descriptor.Digest.String()), 0o644, mf.Bytes))
		}
	}
	index := ocispec.Index{Manifests: []ocispec.Descriptor{}, MediaType: ocispec.MediaTypeImageIndex}
	index.SchemaVersion = 2
	for _, r := range graphs {
		root := r.graph.Root
		target, _ := images.ParseRef(r.image.Target)
		name := target.Tag
		if name == "" {
			name = strings.TrimPrefix(target.Digest, "sha256:")[:12]
		}
		index.Manifests = append(index.Manifests, ocispec.Descriptor{
			MediaType: root.MediaType, Digest: root.Digest, Size: root.Size,
			Annotations: map[string]string{
				ocispec.AnnotationRefName:        strings.ReplaceAll(target.Repository, "/", "-") + "-" + name,
				"io.containerd.image.name":       target.Name() + refSuffix(target),
				"io.airgap-go-constructs.source": r.image.Source,
			},
		})
	}
	indexJSON, err := json.MarshalIndent(index, "", "  ")
	if err != nil {
		return nil, err
	}
	add(bytesEntry(path.Join(OCIDir, "index.json"), 0o644, append(indexJSON, '\n')))
	return out, nil
}

func refSuffix(r images.Ref) string {
	if r.Tag != "" {
		return ":" + r.Tag
	}
	return "@" + r.Digest
}

func blobName(d string) string {
	return path.Join(OCIDir, "blobs", "sha256", strings.TrimPrefix(d, "sha256:"))
}

// stackEntries lists a stack directory's files for the archive. Anything but
// regular files and folders is refused, and so are Terraform's runtime files:
// a freshly synthesized stack has none.
func stackEntries(dir, prefix string) ([]entry, error) {
	var out []entry
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel == ".terraform" {
				return fmt.Errorf("%s holds .terraform/: the stack was initialised here; carry a freshly synthesized stack", dir)
			}
			return nil
		}
		if strings.HasSuffix(rel, ".tfstate") || strings.HasSuffix(rel, ".tfstate.backup") {
			return fmt.Errorf("%s holds the state file %s: a carried stack must not; apply it on one side only", dir, rel)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if !info.Mode().IsRegular() {
			return fmt.Errorf("%s is not a regular file (%s)", p, info.Mode().Type())
		}
		mode := int64(0o644)
		if info.Mode()&0o111 != 0 {
			mode = 0o755
		}
		e, err := fileEntry(p, path.Join(prefix, rel), mode)
		if err != nil {
			return err
		}
		out = append(out, e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	// The stack must still match its own SHA256SUMS, so nothing changed since synth.
	data, err := os.ReadFile(filepath.Join(dir, "SHA256SUMS"))
	if err != nil {
		return nil, fmt.Errorf("no SHA256SUMS: %w", err)
	}
	listed, err := sums.Parse(data)
	if err != nil {
		return nil, err
	}
	for _, e := range out {
		rel := strings.TrimPrefix(e.name, prefix+"/")
		if rel == "SHA256SUMS" {
			continue
		}
		want, ok := listed.Lookup(rel)
		if !ok {
			return nil, fmt.Errorf("%s is not in the stack's SHA256SUMS: it was added after synth", rel)
		}
		if want != e.sha256 {
			return nil, fmt.Errorf("%s does not match the stack's SHA256SUMS: it changed after synth", rel)
		}
	}
	if listed.Len() != len(out)-1 {
		return nil, fmt.Errorf("the stack's SHA256SUMS lists %d files, but %d are there: a listed file is missing", listed.Len(), len(out)-1)
	}
	return out, nil
}

// fileEntry hashes a local file now; writing it re-hashes, so a change in between is caught.
func fileEntry(p, name string, mode int64) (entry, error) {
	f, err := os.Open(p)
	if err != nil {
		return entry{}, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return entry{}, err
	}
	return entry{name: name, mode: mode, size: n, sha256: hex.EncodeToString(h.Sum(nil)), open: func(context.Context) (io.ReadCloser, error) { return os.Open(p) }}, nil
}

func bytesEntry(name string, mode int64, data []byte) entry {
	sum := sha256.Sum256(data)
	return entry{name: name, mode: mode, size: int64(len(data)), sha256: hex.EncodeToString(sum[:]), open: func(context.Context) (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}}
}

// writeAll streams every entry into the archive, checking each against its sha256 as it goes.
func writeAll(ctx context.Context, w *archive.Writer, entries []entry, rep *progress.Reporter) error {
	for _, e := range entries {
		rc, err := e.open(ctx)
		if err != nil {
			return fmt.Errorf("reading %s: %w", e.name, err)
		}
		h := hashing.NewSHA256()
		err = w.Add(e.name, e.mode, e.size, rep.Counter(io.TeeReader(rc, h)))
		rc.Close()
		got := h.Sum()
		if err != nil {
			return fmt.Errorf("writing %s: %w", e.name, err)
		}
		if got != e.sha256 {
			return fmt.Errorf("%s: read content with sha256 %s, expected %s (the source changed or served other bytes); nothing was written", e.name, got, e.sha256)
		}
		if e.size > 1<<20 {
			rep.Item(e.name, e.size)
		}
	}
	return nil
}

func normalizePlatform(p string) string { return strings.ReplaceAll(p, "_", "/") }

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func stringSet(m map[string]string) map[string]bool {
	out := map[string]bool{}
	for k := range m {
		out[k] = true
	}
	return out
}

func union(a, b []string) []string {
	set := map[string]bool{}
	for _, x := range append(append([]string(nil), a...), b...) {
		set[x] = true
	}
	return sortedKeys(set)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
