package build

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/airgap-go-constructs/kit/internal/images"
)

// Options are how one build runs, beside its spec.
type Options struct {
	// Log receives go's output and our progress; the same lines go to LogFile.
	Log io.Writer
	// LogFile, when set, keeps the whole output, and is named in any error.
	LogFile string
	// WorkDir holds the binaries; a temporary folder when empty.
	WorkDir string
}

// PlatformResult is one platform's image.
type PlatformResult struct {
	Platform string `json:"platform"`
	// Digest is the platform manifest's.
	Digest string `json:"digest"`
	// BinaryBytes and LayerBytes are the binary's size and its compressed layer's.
	BinaryBytes int64 `json:"binaryBytes"`
	LayerBytes  int64 `json:"layerBytes"`
	// ImageBytes is the compressed size of every layer plus the config.
	ImageBytes int64 `json:"imageBytes"`
	// SBOM is the digest of the SPDX referrer, when attached.
	SBOM string `json:"sbom,omitempty"`
	// Compiled are the packages go compiled (not from its build cache).
	Compiled []string `json:"compiled"`
}

// Result is what Build pushed.
type Result struct {
	Target string `json:"target"`
	// Digest is what the tag points at: the index's, or the one manifest's.
	Digest    string           `json:"digest"`
	MediaType string           `json:"mediaType"`
	Platforms []PlatformResult `json:"platforms"`
}

type built struct {
	platform images.Platform
	binary   string
	compiled []string
	image    v1.Image
}

// Build compiles the spec's module for each platform, assembles the images
// onto the runtime base, pushes them (as one index for several platforms)
// and attaches the SBOMs.
func Build(ctx context.Context, s *Spec, o Options) (*Result, error) {
	logw, closeLog, err := openLog(o)
	if err != nil {
		return nil, err
	}
	defer closeLog()
	work := o.WorkDir
	if work == "" {
		if work, err = os.MkdirTemp("", "airgap-kit-build-"); err != nil {
			return nil, err
		}
		defer os.RemoveAll(work)
	}
	plain := map[string]bool{}
	for _, h := range s.PlainHTTP {
		plain[h] = true
	}
	remoteOpts := []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain), remote.WithUserAgent("airgap-kit")}
	baseRef, err := parseRef(s.Runtime, plain)
	if err != nil {
		return nil, fmt.Errorf("runtime base: %w", err)
	}
	if _, ok := baseRef.(name.Digest); !ok {
		return nil, fmt.Errorf("runtime base %s is not pinned by digest", s.Runtime)
	}
	target, err := parseRef(s.Target, plain)
	if err != nil {
		return nil, fmt.Errorf("target: %w", err)
	}
	fmt.Fprintf(logw, "base %s\n", s.Runtime)
	base, err := remote.Get(baseRef, remoteOpts...)
	if err != nil {
		return nil, fmt.Errorf("reading the runtime base %s: %w (push it to the registry first: it is in the stack's offline/images.json)", s.Runtime, err)
	}

	var all []built
	for _, p := range s.Platforms {
		plat, _ := images.ParsePlatform(p)
		bin := filepath.Join(work, strings.ReplaceAll(plat.String(), "/", "-"), s.Binary)
		compiled, err := compile(ctx, s, plat, bin, logw, o.LogFile)
		if err != nil {
			return nil, err
		}
		baseImg, err := basePlatform(base, s.Runtime, plat)
		if err != nil {
			return nil, err
		}
		img, err := assemble(s, baseImg, plat, bin)
		if err != nil {
			return nil, fmt.Errorf("%s: assembling the image: %w", plat, err)
		}
		all = append(all, built{platform: plat, binary: bin, compiled: compiled, image: img})
	}

	res := &Result{Target: s.Target}
	var pushed v1.Hash
	if len(all) == 1 {
		if err := remote.Write(target, all[0].image, remoteOpts...); err != nil {
			return nil, fmt.Errorf("pushing %s: %w", s.Target, err)
		}
		if pushed, err = all[0].image.Digest(); err != nil {
			return nil, err
		}
		mt, _ := all[0].image.MediaType()
		res.MediaType = string(mt)
	} else {
		idx, mt := index(all)
		if err := remote.WriteIndex(target, idx, remoteOpts...); err != nil {
			return nil, fmt.Errorf("pushing %s: %w", s.Target, err)
		}
		if pushed, err = idx.Digest(); err != nil {
			return nil, err
		}
		res.MediaType = string(mt)
	}
	res.Digest = pushed.String()
	fmt.Fprintf(logw, "pushed %s@%s (%s)\n", s.Target, res.Digest, res.MediaType)

	for _, b := range all {
		pr, err := platformResult(b)
		if err != nil {
			return nil, err
		}
		if s.SBOM {
			doc, err := SPDX(SBOMInput{Binary: b.binary, ModuleDir: s.Module, Platform: b.platform.String(), Image: repoOf(s.Target) + "@" + pr.Digest, Base: s.Runtime, Created: s.SourceDateEpoch, Name: s.Binary})
			if err != nil {
				return nil, fmt.Errorf("%s: SBOM: %w", b.platform, err)
			}
			desc, err := b.image.Manifest()
			if err != nil {
				return nil, err
			}
			raw, _ := b.image.RawManifest()
			sbomDigest, err := AttachSBOM(ctx, repoOf(s.Target), s.PlainHTTP, v1Descriptor(string(desc.MediaType), raw), doc, s.SourceDateEpoch)
			if err != nil {
				return nil, fmt.Errorf("%s: attaching the SBOM: %w", b.platform, err)
			}
			pr.SBOM = sbomDigest
			fmt.Fprintf(logw, "sbom %s for %s (%s)\n", sbomDigest, b.platform, pr.Digest)
		}
		res.Platforms = append(res.Platforms, pr)
	}
	return res, nil
}

func openLog(o Options) (io.Writer, func(), error) {
	w := o.Log
	if w == nil {
		w = io.Discard
	}
	if o.LogFile == "" {
		return w, func() {}, nil
	}
	if err := os.MkdirAll(filepath.Dir(o.LogFile), 0o755); err != nil {
		return nil, nil, err
	}
	f, err := os.Create(o.LogFile)
	if err != nil {
		return nil, nil, err
	}
	return io.MultiWriter(w, f), func() { f.Close() }, nil
}

func parseRef(ref string, plain map[string]bool) (name.Reference, error) {
	r, err := name.ParseReference(ref, name.StrictValidation)
	if err != nil {
		return nil, err
	}
	if plain[r.Context().RegistryStr()] {
		return name.ParseReference(ref, name.StrictValidation, name.Insecure)
	}
	return r, nil
}

func repoOf(ref string) string {
	if i := strings.Index(ref, "@"); i >= 0 {
		ref = ref[:i]
	}
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		ref = ref[:i]
	}
	return ref
}

// goEnv is the environment of `go build` for one platform: the caller's
// (GOCACHE, GOPATH, HOME), then the spec's settings, then the target.
func goEnv(s *Spec, p images.Platform) []string {
	set := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			set[k] = v
		}
	}
	for k, v := range s.Env {
		set[k] = v
	}
	set["CGO_ENABLED"] = "0"
	set["GOTOOLCHAIN"] = "local"
	set["GOOS"] = p.OS
	set["GOARCH"] = p.Architecture
	delete(set, "GOARM")
	delete(set, "GOAMD64")
	switch {
	case p.Architecture == "arm" && p.Variant != "":
		set["GOARM"] = strings.TrimPrefix(p.Variant, "v")
	case p.Architecture == "amd64" && p.Variant != "":
		set["GOAMD64"] = p.Variant
	}
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	env := make([]string, 0, len(keys))
	for _, k := range keys {
		env = append(env, k+"="+set[k])
	}
	return env
}

// compile runs go build -v: the packages it names are those it compiled,
// so a warm rebuild shows what the build cache saved.
func compile(ctx context.Context, s *Spec, p images.Platform, out string, logw io.Writer, logFile string) ([]string, error) {
	args := []string{"build", "-v", "-trimpath", "-buildvcs=false"}
	if len(s.Tags) > 0 {
		args = append(args, "-tags="+strings.Join(s.Tags, ","))
	}
	args = append(args, "-ldflags="+strings.Join(append([]string{"-s", "-w", "-buildid="}, s.Ldflags...), " "), "-o", out, s.MainPackage)
	fmt.Fprintf(logw, "%s: go %s\n", p, strings.Join(args, " "))
	var output bytes.Buffer
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = s.Module
	cmd.Env = goEnv(s, p)
	cmd.Stdout = io.MultiWriter(logw, &output)
	cmd.Stderr = io.MultiWriter(logw, &output)
	start := time.Now()
	if err := cmd.Run(); err != nil {
		where := ""
		if logFile != "" {
			where = " (whole log: " + logFile + ")"
		}
		return nil, fmt.Errorf("%s: go build failed: %v%s\n%s", p, err, where, tail(output.String(), 60))
	}
	var compiled []string
	for _, line := range strings.Split(output.String(), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "go: ") && !strings.Contains(line, " ") {
			compiled = append(compiled, line)
		}
	}
	fmt.Fprintf(logw, "%s: compiled %d packages in %.2f s (the rest from the build cache)\n", p, len(compiled), time.Since(start).Seconds())
	return compiled, nil
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("... (%d lines before)", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

// basePlatform picks the base for one platform: the index's child for it,
// or a single image only when it is for that platform.
func basePlatform(base *remote.Descriptor, ref string, p images.Platform) (v1.Image, error) {
	if base.MediaType.IsIndex() {
		idx, err := base.ImageIndex()
		if err != nil {
			return nil, err
		}
		m, err := idx.IndexManifest()
		if err != nil {
			return nil, err
		}
		var have []string
		for _, d := range m.Manifests {
			if d.Platform == nil {
				continue
			}
			have = append(have, platformOf(d.Platform))
			if matches(p, d.Platform) {
				return idx.Image(d.Digest)
			}
		}
		return nil, fmt.Errorf("the runtime base %s has no image for %s (it has %s): mirror the base's whole index", ref, p, strings.Join(have, ", "))
	}
	img, err := base.Image()
	if err != nil {
		return nil, err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	bp := v1.Platform{OS: cfg.OS, Architecture: cfg.Architecture, Variant: cfg.Variant}
	if !matches(p, &bp) {
		return nil, fmt.Errorf("the runtime base %s is a single-platform image for %s, not %s: pin the base's multi-platform index", ref, platformOf(&bp), p)
	}
	return img, nil
}

func matches(p images.Platform, q *v1.Platform) bool { return p.Matches(ociPlatform(q)) }

func platformOf(q *v1.Platform) string { return images.PlatformString(ociPlatform(q)) }

func ociPlatform(q *v1.Platform) *ocispec.Platform {
	return &ocispec.Platform{OS: q.OS, Architecture: q.Architecture, Variant: q.Variant}
}

// layer is the binary under BinaryDir, with its parent folders, every entry
// owned by root and stamped SourceDateEpoch, so it is byte-identical from
// build to build.
func layer(s *Spec, bin string) (v1.Layer, error) {
	data, err := os.ReadFile(bin)
	if err != nil {
		return nil, err
	}
	mtime := time.Unix(s.SourceDateEpoch, 0).UTC()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dir := strings.Trim(s.BinaryDir, "/")
	parts := strings.Split(dir, "/")
	for i := range parts {
		h := &tar.Header{Typeflag: tar.TypeDir, Name: strings.Join(parts[:i+1], "/") + "/", Mode: 0o755, ModTime: mtime, Format: tar.FormatPAX}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
	}
	h := &tar.Header{Typeflag: tar.TypeReg, Name: path.Join(dir, s.Binary), Mode: 0o555, Size: int64(len(data)), ModTime: mtime, Format: tar.FormatPAX}
	if err := tw.WriteHeader(h); err != nil {
		return nil, err
	}
	if _, err := tw.Write(data); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	raw := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(raw)), nil })
}

func assemble(s *Spec, base v1.Image, p images.Platform, bin string) (v1.Image, error) {
	l, err := layer(s, bin)
	if err != nil {
		return nil, err
	}
	baseMT, err := base.MediaType()
	if err != nil {
		return nil, err
	}
	if baseMT == types.OCIManifestSchema1 {
		l = withMediaType{l, types.OCILayer}
	}
	created := v1.Time{Time: time.Unix(s.SourceDateEpoch, 0).UTC()}
	img, err := mutate.Append(base, mutate.Addendum{
		Layer:     l,
		MediaType: mediaTypeOf(l),
		History:   v1.History{Author: "airgap-kit", CreatedBy: "airgap-kit build-image: " + path.Join(s.BinaryDir, s.Binary), Created: created},
	})
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant = p.OS, p.Architecture, p.Variant
	cf.Created = created
	cf.Config.User = s.User
	cf.Config.Entrypoint = []string{path.Join(s.BinaryDir, s.Binary)}
	cf.Config.Cmd = nil
	cf.Config.ExposedPorts = map[string]struct{}{}
	for _, port := range s.Ports {
		cf.Config.ExposedPorts[strconv.Itoa(port)+"/tcp"] = struct{}{}
	}
	if len(s.Ports) == 0 {
		cf.Config.ExposedPorts = nil
	}
	labels := map[string]string{}
	for k, v := range cf.Config.Labels {
		labels[k] = v
	}
	for k, v := range s.Labels {
		labels[k] = v
	}
	cf.Config.Labels = labels
	return mutate.ConfigFile(img, cf)
}

func mediaTypeOf(l v1.Layer) types.MediaType {
	mt, err := l.MediaType()
	if err != nil {
		return types.DockerLayer
	}
	return mt
}

// withMediaType gives a layer the base's family of media types.
type withMediaType struct {
	v1.Layer
	mt types.MediaType
}

func (w withMediaType) MediaType() (types.MediaType, error) { return w.mt, nil }

// index is the multi-platform index of the images, in the spec's order, in
// the family of media types the base uses.
func index(all []built) (v1.ImageIndex, types.MediaType) {
	mt := types.OCIImageIndex
	for _, b := range all {
		if m, _ := b.image.MediaType(); m != types.OCIManifestSchema1 {
			mt = types.DockerManifestList
		}
	}
	idx := mutate.IndexMediaType(empty.Index, mt)
	for _, b := range all {
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{
			Add:        b.image,
			Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: b.platform.OS, Architecture: b.platform.Architecture, Variant: b.platform.Variant}},
		})
	}
	return idx, mt
}

func platformResult(b built) (PlatformResult, error) {
	pr := PlatformResult{Platform: b.platform.String(), Compiled: b.compiled}
	d, err := b.image.Digest()
	if err != nil {
		return pr, err
	}
	pr.Digest = d.String()
	if st, err := os.Stat(b.binary); err == nil {
		pr.BinaryBytes = st.Size()
	}
	m, err := b.image.Manifest()
	if err != nil {
		return pr, err
	}
	pr.ImageBytes = m.Config.Size
	for i, l := range m.Layers {
		pr.ImageBytes += l.Size
		if i == len(m.Layers)-1 {
			pr.LayerBytes = l.Size
		}
	}
	return pr, nil
}
