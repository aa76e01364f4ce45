package images

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/credentials"
	"oras.land/oras-go/v2/registry/remote/retry"
)

// Media types of the manifests we walk.
const (
	dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
	dockerManifest     = "application/vnd.docker.distribution.manifest.v2+json"
)

// IsIndex reports whether a media type is an index (OCI index or Docker manifest list).
func IsIndex(mediaType string) bool {
	return mediaType == ocispec.MediaTypeImageIndex || mediaType == dockerManifestList
}

// IsManifest reports whether a media type is a manifest or an index.
func IsManifest(mediaType string) bool {
	switch mediaType {
	case ocispec.MediaTypeImageIndex, dockerManifestList, ocispec.MediaTypeImageManifest, dockerManifest, "application/vnd.oci.artifact.manifest.v1+json":
		return true
	}
	return false
}

// Manifest is one manifest or index, with its exact bytes.
type Manifest struct {
	Descriptor ocispec.Descriptor
	Bytes      []byte
}

// Graph is everything one image needs in a registry: its blobs and its
// manifests, children before parents, referrers after their subject.
type Graph struct {
	// Root is the descriptor the image is pinned by.
	Root ocispec.Descriptor
	// Blobs are configs and layers, each once.
	Blobs []ocispec.Descriptor
	// Manifests in push order.
	Manifests []Manifest
	// Platforms of the index's children that are carried ("os/arch[/variant]").
	Platforms []string
	// Skipped are the index's children left out because their platform was not named.
	Skipped []string
	// Referrers are the digests of manifests that refer to a manifest of the image.
	Referrers []string
	// ReferrerTypes are the artifact types of the referrers, by their subject's digest.
	ReferrerTypes map[string][]string
	// PlatformManifests are the digests of the carried platform images: the
	// index's kept children, or the root itself when it is one image.
	PlatformManifests []string
}

// MissingReferrers names the carried platform images that have no referrer of
// artifactType, unless the root has one (an SBOM of the whole index).
func (g *Graph) MissingReferrers(artifactType string) []string {
	has := func(d string) bool {
		for _, t := range g.ReferrerTypes[d] {
			if t == artifactType {
				return true
			}
		}
		return false
	}
	if has(g.Root.Digest.String()) {
		return nil
	}
	var missing []string
	for _, d := range g.PlatformManifests {
		if !has(d) {
			missing = append(missing, d)
		}
	}
	return missing
}

// Client reads and writes registries with credentials from the docker config.
type Client struct {
	auth      *auth.Client
	plainHTTP map[string]bool
}

// NewClient makes a client. Hosts in plainHTTP are spoken to over HTTP, every other over HTTPS.
func NewClient(plainHTTP []string) (*Client, error) {
	store, err := credentials.NewStoreFromDocker(credentials.StoreOptions{})
	if err != nil {
		return nil, fmt.Errorf("reading registry credentials from the docker config: %w", err)
	}
	c := &Client{
		auth: &auth.Client{
			Client:     &http.Client{Transport: retry.NewTransport(http.DefaultTransport.(*http.Transport).Clone())},
			Cache:      auth.NewCache(),
			Credential: credentials.Credential(store),
			Header:     http.Header{"User-Agent": {"airgap-kit"}},
		},
		plainHTTP: map[string]bool{},
	}
	for _, h := range plainHTTP {
		c.plainHTTP[h] = true
	}
	return c, nil
}

// Repository opens registry/repository.
func (c *Client) Repository(name string) (*remote.Repository, error) {
	repo, err := remote.NewRepository(name)
	if err != nil {
		return nil, err
	}
	repo.Client = c.auth
	repo.PlainHTTP = c.plainHTTP[repo.Reference.Registry]
	return repo, nil
}

// Platform matches an index child by os/arch[/variant].
type Platform struct {
	OS, Architecture, Variant string
}

// ParsePlatform reads "linux/amd64" or "linux/arm64/v8" (also "linux_amd64").
func ParsePlatform(s string) (Platform, error) {
	parts := strings.Split(strings.ReplaceAll(s, "_", "/"), "/")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return Platform{}, fmt.Errorf("platform %q is not os/arch[/variant], such as linux/amd64", s)
	}
	p := Platform{OS: parts[0], Architecture: parts[1]}
	if len(parts) == 3 {
		p.Variant = parts[2]
	}
	return p, nil
}

func (p Platform) String() string {
	if p.Variant != "" {
		return p.OS + "/" + p.Architecture + "/" + p.Variant
	}
	return p.OS + "/" + p.Architecture
}

// Matches reports whether an index child's platform is p (arm64 without a variant is v8).
func (p Platform) Matches(q *ocispec.Platform) bool {
	if q == nil || q.OS != p.OS || q.Architecture != p.Architecture {
		return false
	}
	if p.Variant == "" {
		return true
	}
	v := q.Variant
	if v == "" && q.Architecture == "arm64" {
		v = "v8"
	}
	return v == p.Variant
}

// PlatformString is "os/arch[/variant]", or "unknown" for none.
func PlatformString(p *ocispec.Platform) string {
	if p == nil {
		return "unknown"
	}
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// manifestFields are the parts of any manifest or index we follow.
type manifestFields struct {
	MediaType string               `json:"mediaType"`
	Config    *ocispec.Descriptor  `json:"config"`
	Layers    []ocispec.Descriptor `json:"layers"`
	Blobs     []ocispec.Descriptor `json:"blobs"`
	Manifests []ocispec.Descriptor `json:"manifests"`
}

// Resolve walks the image at ref in repo: the root by its digest (or tag),
// an index's children for the named platforms (all when none are named), and
// every referrer the registry lists. Manifest bytes are kept exactly as served.
func Resolve(ctx context.Context, repo *remote.Repository, ref Ref, platforms []Platform) (*Graph, error) {
	root, err := repo.Resolve(ctx, ref.Reference())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ref, describe(err))
	}
	if ref.Digest != "" && root.Digest.String() != ref.Digest {
		return nil, fmt.Errorf("%s: the registry answered with digest %s for it", ref, root.Digest)
	}
	g := &Graph{Root: root, ReferrerTypes: map[string][]string{}}
	if !IsIndex(root.MediaType) {
		g.PlatformManifests = []string{root.Digest.String()}
	}
	w := &walker{ctx: ctx, repo: repo, g: g, seenBlob: map[digest.Digest]bool{}, seenManifest: map[digest.Digest]bool{}}
	if err := w.manifest(root, platforms, true); err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	return g, nil
}

type walker struct {
	ctx          context.Context
	repo         *remote.Repository
	g            *Graph
	seenBlob     map[digest.Digest]bool
	seenManifest map[digest.Digest]bool
}

func (w *walker) manifest(desc ocispec.Descriptor, platforms []Platform, root bool) error {
	if w.seenManifest[desc.Digest] {
		return nil
	}
	w.seenManifest[desc.Digest] = true
	rc, err := w.repo.Manifests().Fetch(w.ctx, desc)
	if err != nil {
		return fmt.Errorf("fetching manifest %s: %w", desc.Digest, describe(err))
	}
	data, err := content.ReadAll(rc, desc)
	rc.Close()
	if err != nil {
		return fmt.Errorf("manifest %s: %w", desc.Digest, err)
	}
	var m manifestFields
	if err := json.Unmarshal(data, &m); err != nil {
		return fmt.Errorf("manifest %s is not JSON: %w", desc.Digest, err)
	}
	if IsIndex(desc.MediaType) {
		kept := map[digest.Digest]bool{}
		for _, child := range m.Manifests {
			if len(platforms) > 0 && !keepChild(child, platforms, kept) {
				w.g.Skipped = append(w.g.Skipped, PlatformString(child.Platform))
				continue
			}
			kept[child.Digest] = true
			if root && child.Platform != nil {
				w.g.Platforms = append(w.g.Platforms, PlatformString(child.Platform))
			}
			if root {
				w.g.PlatformManifests = append(w.g.PlatformManifests, child.Digest.String())
			}
			if err := w.manifest(child, platforms, false); err != nil {
				return err
			}
		}
	} else {
		var blobs []ocispec.Descriptor
		if m.Config != nil {
			blobs = append(blobs, *m.Config)
		}
		blobs = append(blobs, m.Layers...)
		blobs = append(blobs, m.Blobs...)
		for _, b := range blobs {
			if !w.seenBlob[b.Digest] {
				w.seenBlob[b.Digest] = true
				w.g.Blobs = append(w.g.Blobs, b)
			}
		}
	}
	w.g.Manifests = append(w.g.Manifests, Manifest{Descriptor: desc, Bytes: data})
	return w.referrers(desc)
}

// keepChild keeps children of named platforms, and attestations of kept children.
func keepChild(child ocispec.Descriptor, platforms []Platform, kept map[digest.Digest]bool) bool {
	for _, p := range platforms {
		if p.Matches(child.Platform) {
			return true
		}
	}
	if ref := child.Annotations["vnd.docker.reference.digest"]; ref != "" {
		return kept[digest.Digest(ref)]
	}
	return false
}

func (w *walker) referrers(subject ocispec.Descriptor) error {
	var found []ocispec.Descriptor
	err := w.repo.Referrers(w.ctx, subject, "", func(page []ocispec.Descriptor) error {
		found = append(found, page...)
		return nil
	})
	if err != nil && !errors.Is(err, errdef.ErrNotFound) && !errors.Is(err, errdef.ErrUnsupported) {
		return fmt.Errorf("listing referrers of %s: %w", subject.Digest, describe(err))
	}
	for _, r := range found {
		w.g.ReferrerTypes[subject.Digest.String()] = append(w.g.ReferrerTypes[subject.Digest.String()], r.ArtifactType)
		if w.seenManifest[r.Digest] {
			continue
		}
		w.g.Referrers = append(w.g.Referrers, r.Digest.String())
		if err := w.manifest(r, nil, false); err != nil {
			return err
		}
	}
	return nil
}

// describe adds what to do to the errors users meet most.
func describe(err error) error {
	msg := err.Error()
	switch {
	case errors.Is(err, errdef.ErrNotFound):
		return fmt.Errorf("%w (not in the source registry: mirror it there, or fix the digest)", err)
	case strings.Contains(msg, "server gave HTTP response to HTTPS client"):
		return fmt.Errorf("%w (this registry speaks plain HTTP: pass --plain-http HOST)", err)
	case strings.Contains(msg, "401") || strings.Contains(msg, "unauthorized"):
		return fmt.Errorf("%w (log in with docker login or podman login; credentials come from the docker config)", err)
	}
	return err
}
