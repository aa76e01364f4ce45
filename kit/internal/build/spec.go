// Package build assembles a GoImage the way ko does: the host's `go build`
// with its own build cache, one layer holding the binary appended onto the
// digest-pinned runtime base, pushed by digest with go-containerregistry, and
// an SPDX document from the binary's build info attached as an OCI referrer.
// No container engine is involved, so the same source gives the same digest.
package build

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/airgap-go-constructs/kit/internal/images"
)

// FormatV1 is the only spec format GoImage writes.
const FormatV1 = 1

// Spec is what GoImage writes beside the staged module (build.json): every
// value already validated at synth.
type Spec struct {
	FormatVersion int `json:"formatVersion"`
	// Module is the staged module folder, relative to the spec file.
	Module string `json:"module"`
	// MainPackage is the main package relative to the module (".", "./cmd/api").
	MainPackage string `json:"mainPackage"`
	// Binary is the binary's file name.
	Binary string `json:"binary"`
	// BinaryDir is where the binary lives in the image.
	BinaryDir string `json:"binaryDir"`
	// Env holds GOFLAGS, GOPROXY and the like for `go build`.
	Env map[string]string `json:"env"`
	// Tags are build tags.
	Tags []string `json:"tags"`
	// Ldflags follow "-s -w -buildid=".
	Ldflags []string `json:"ldflags"`
	// Runtime is the pinned runtime base (after the mirror rewrite).
	Runtime string `json:"runtime"`
	// Platforms are "os/arch[/variant]", in the order of the pushed index.
	Platforms []string `json:"platforms"`
	// Repository is registry/repository; the tag comes from the command line.
	Repository string `json:"repository"`
	// Target is Repository:tag, set by the caller.
	Target string `json:"-"`
	// User is uid:gid.
	User string `json:"user"`
	// Ports are the TCP ports exposed.
	Ports []int `json:"ports"`
	// Labels are OCI labels of the image config.
	Labels map[string]string `json:"labels"`
	// SourceDateEpoch stamps the config, the history and every file.
	SourceDateEpoch int64 `json:"sourceDateEpoch"`
	// SBOM attaches an SPDX document to every platform's manifest.
	SBOM bool `json:"sbom"`
	// PlainHTTP are registry hosts spoken to over HTTP.
	PlainHTTP []string `json:"plainHttp"`
}

var (
	binaryName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)
	envName    = regexp.MustCompile(`^GO[A-Z0-9_]+$`)
)

// ReadSpec reads and checks a spec file; Module comes back absolute.
func ReadSpec(path string) (*Spec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s Spec
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if s.FormatVersion != FormatV1 {
		return nil, fmt.Errorf("%s: format %d, want %d: synthesize again with this package's version", path, s.FormatVersion, FormatV1)
	}
	var problems []string
	if !binaryName.MatchString(s.Binary) {
		problems = append(problems, fmt.Sprintf("binary %q is not a file name", s.Binary))
	}
	if !strings.HasPrefix(s.BinaryDir, "/") {
		problems = append(problems, fmt.Sprintf("binaryDir %q is not absolute", s.BinaryDir))
	}
	for k := range s.Env {
		if !envName.MatchString(k) {
			problems = append(problems, fmt.Sprintf("env %q is not a Go setting", k))
		}
	}
	if len(s.Platforms) == 0 {
		problems = append(problems, "platforms is empty")
	}
	for _, p := range s.Platforms {
		if _, err := images.ParsePlatform(p); err != nil {
			problems = append(problems, err.Error())
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%s: %s", path, strings.Join(problems, "; "))
	}
	if !filepath.IsAbs(s.Module) {
		s.Module = filepath.Join(filepath.Dir(path), filepath.FromSlash(s.Module))
	}
	return &s, nil
}
