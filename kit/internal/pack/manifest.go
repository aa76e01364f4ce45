// Package pack makes the carry archive on the connected side (Pack), checks
// it on the far side before anything is touched (Verify), and pushes its
// images into the internal registry and lays out its stacks (Push).
package pack

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// Names inside the archive.
const (
	SumsName      = "SHA256SUMS"
	SignatureName = "SHA256SUMS.sig"
	ManifestName  = "manifest.json"
	StacksDir     = "cdktf.out/stacks"
	// ProvidersDir is where each stack's offline/tofurc looks, relative to the
	// stack directory: ../../providers.
	ProvidersDir = "cdktf.out/providers"
	OCIDir       = "oci"
	BinDir       = "bin"
	FormatV1     = 1
)

// StackImages is a stack's offline/images.json, as synth writes it.
type StackImages struct {
	FormatVersion int          `json:"formatVersion"`
	Platforms     []string     `json:"platforms"`
	Images        []StackImage `json:"images"`
}

// StackImage is one image a stack needs on the far side.
type StackImage struct {
	// Target is the reference the stack uses inside the gap (after the AirGap rewrite).
	Target string `json:"target"`
	// Source is where the image comes from on the connected side; empty for images the stack builds.
	Source string `json:"source,omitempty"`
	// Digest pins the image; empty when known only after apply.
	Digest string `json:"digest,omitempty"`
	// Index says whether the digest is an index, when synth knows.
	Index *bool `json:"index,omitempty"`
	// Platforms the far side needs; empty means the stack's platforms.
	Platforms []string `json:"platforms,omitempty"`
	// Referrers are artifact types (such as application/spdx+json) every
	// carried platform image must have a referrer of: pack fails without them.
	Referrers []string `json:"referrers,omitempty"`
	// Use is "base" (a Dockerfile FROM), "run" (a container) or "build" (built and pushed by the stack).
	Use string `json:"use"`
	// NeededBy are the construct paths that need the image.
	NeededBy []string `json:"neededBy"`
}

// StackProviders is a stack's offline/providers.json.
type StackProviders struct {
	FormatVersion int             `json:"formatVersion"`
	Platforms     []string        `json:"platforms"`
	Providers     []StackProvider `json:"providers"`
}

// StackProvider is one provider a stack requires.
type StackProvider struct {
	// Source is namespace/type, such as hashicorp/kubernetes.
	Source  string `json:"source"`
	Version string `json:"version"`
}

// Manifest is the archive's manifest.json: what it carries, and for whom.
type Manifest struct {
	FormatVersion int             `json:"formatVersion"`
	Platforms     []string        `json:"platforms"`
	Stacks        []ManifestStack `json:"stacks"`
	Images        []ManifestImage `json:"images"`
	Providers     []ManifestProv  `json:"providers"`
	Binaries      []ManifestBin   `json:"binaries"`
	// Files counts every file of the archive but SHA256SUMS and its signature.
	Files int   `json:"files"`
	Bytes int64 `json:"bytes"`
}

// ManifestStack is one carried stack, with the stacks it needs applied first.
type ManifestStack struct {
	Name      string   `json:"name"`
	Dir       string   `json:"dir"`
	DependsOn []string `json:"dependsOn"`
	// Builds lists images the stack builds on the far side (build inside the gap).
	Builds []string `json:"builds,omitempty"`
}

// ManifestImage is one image the archive carries, with every digest in its graph.
type ManifestImage struct {
	Source    string   `json:"source"`
	ReadFrom  string   `json:"readFrom,omitempty"`
	Target    string   `json:"target"`
	Digest    string   `json:"digest"`
	MediaType string   `json:"mediaType"`
	Index     bool     `json:"index"`
	Platforms []string `json:"platforms,omitempty"`
	Skipped   []string `json:"skippedPlatforms,omitempty"`
	// Manifests are the digests of every manifest, in push order (children, root, referrers).
	Manifests []string `json:"manifests"`
	Blobs     []string `json:"blobs"`
	Referrers []string `json:"referrers,omitempty"`
	NeededBy  []string `json:"neededBy"`
	Bytes     int64    `json:"bytes"`
}

// ManifestProv is one provider package for one platform.
type ManifestProv struct {
	Source   string `json:"source"`
	Version  string `json:"version"`
	Platform string `json:"platform"`
	// Path of the package below ProvidersDir (a zip, or the folder of an unpacked one).
	Path string `json:"path"`
	H1   string `json:"h1"`
}

// ManifestBin is a static airgap-kit binary carried for the far side.
type ManifestBin struct {
	Platform string `json:"platform"`
	Path     string `json:"path"`
}

// readJSON decodes a file, naming it in the error.
func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s is not valid JSON: %w", path, err)
	}
	return nil
}

// cdktfManifest is the part of cdktf.out/manifest.json we read.
type cdktfManifest struct {
	Stacks map[string]struct {
		Name             string   `json:"name"`
		WorkingDirectory string   `json:"workingDirectory"`
		Dependencies     []string `json:"dependencies"`
	} `json:"stacks"`
}

// readStacks lists the stacks of a synthesized cdktf.out, dependencies first.
func readStacks(out string) ([]ManifestStack, error) {
	var m cdktfManifest
	if err := readJSON(filepath.Join(out, "manifest.json"), &m); err != nil {
		return nil, fmt.Errorf("reading the synthesized app: %w (run cdktf synth first, or point --cdktf-out at its output)", err)
	}
	names := make([]string, 0, len(m.Stacks))
	for name := range m.Stacks {
		names = append(names, name)
	}
	sort.Strings(names)
	var ordered []ManifestStack
	done := map[string]bool{}
	var visit func(name string, path []string) error
	visit = func(name string, path []string) error {
		if done[name] {
			return nil
		}
		for _, p := range path {
			if p == name {
				return fmt.Errorf("stacks depend on each other in a cycle: %v", append(path, name))
			}
		}
		s, ok := m.Stacks[name]
		if !ok {
			return fmt.Errorf("stack %q is named as a dependency but was not synthesized", name)
		}
		deps := append([]string(nil), s.Dependencies...)
		sort.Strings(deps)
		for _, d := range deps {
			if err := visit(d, append(path, name)); err != nil {
				return err
			}
		}
		done[name] = true
		ordered = append(ordered, ManifestStack{Name: name, Dir: filepath.ToSlash(s.WorkingDirectory), DependsOn: deps})
		return nil
	}
	for _, n := range names {
		if err := visit(n, nil); err != nil {
			return nil, err
		}
	}
	return ordered, nil
}
