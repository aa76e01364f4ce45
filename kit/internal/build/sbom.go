package build

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"debug/buildinfo"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/errdef"

	"github.com/airgap-go-constructs/kit/internal/images"
)

// SPDXMediaType is the artifact type and layer media type of our SBOMs.
const SPDXMediaType = "application/spdx+json"

// SBOMInput is what one SPDX document describes.
type SBOMInput struct {
	// Binary is the built binary; its Go build info is read, never executed.
	Binary string
	// ModuleDir holds go.sum: a vendored build records no sums, so they come from there.
	ModuleDir string
	// Name is the binary's name; Platform its os/arch.
	Name, Platform string
	// Image is the platform image, repo@digest; Base the runtime base, pinned.
	Image, Base string
	// Created is SourceDateEpoch: the document's creation time.
	Created int64
}

type spdxDoc struct {
	SPDXVersion       string         `json:"spdxVersion"`
	DataLicense       string         `json:"dataLicense"`
	SPDXID            string         `json:"SPDXID"`
	Name              string         `json:"name"`
	DocumentNamespace string         `json:"documentNamespace"`
	CreationInfo      spdxCreation   `json:"creationInfo"`
	Packages          []spdxPackage  `json:"packages"`
	Relationships     []spdxRelation `json:"relationships"`
}

type spdxCreation struct {
	Created  string   `json:"created"`
	Creators []string `json:"creators"`
}

type spdxPackage struct {
	SPDXID           string         `json:"SPDXID"`
	Name             string         `json:"name"`
	VersionInfo      string         `json:"versionInfo,omitempty"`
	DownloadLocation string         `json:"downloadLocation"`
	FilesAnalyzed    bool           `json:"filesAnalyzed"`
	Checksums        []spdxChecksum `json:"checksums,omitempty"`
	ExternalRefs     []spdxRef      `json:"externalRefs,omitempty"`
	PrimaryPurpose   string         `json:"primaryPackagePurpose,omitempty"`
	Comment          string         `json:"comment,omitempty"`
}

type spdxChecksum struct {
	Algorithm     string `json:"algorithm"`
	ChecksumValue string `json:"checksumValue"`
}

type spdxRef struct {
	ReferenceCategory string `json:"referenceCategory"`
	ReferenceType     string `json:"referenceType"`
	ReferenceLocator  string `json:"referenceLocator"`
}

type spdxRelation struct {
	Element string `json:"spdxElementId"`
	Type    string `json:"relationshipType"`
	Related string `json:"relatedSpdxElement"`
}

var spdxIDUnsafe = regexp.MustCompile(`[^A-Za-z0-9.-]+`)

func spdxID(kind, s string) string {
	return "SPDXRef-" + kind + "-" + spdxIDUnsafe.ReplaceAllString(s, "-")
}

// GoSums reads go.sum's module hashes (not the go.mod ones) by "path version".
func GoSums(moduleDir string) (map[string]string, error) {
	sums := map[string]string{}
	f, err := os.Open(filepath.Join(moduleDir, "go.sum"))
	if errors.Is(err, os.ErrNotExist) {
		return sums, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 3 && !strings.HasSuffix(fields[1], "/go.mod") {
			sums[fields[0]+" "+fields[1]] = fields[2]
		}
	}
	return sums, sc.Err()
}

// h1Hex is the sha256 behind a go.sum "h1:" hash, as SPDX's SHA256 checksum.
func h1Hex(h1 string) string {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(h1, "h1:"))
	if !strings.HasPrefix(h1, "h1:") || err != nil || len(raw) != sha256.Size {
		return ""
	}
	return hex.EncodeToString(raw)
}

// SPDX writes the SPDX 2.3 document of one platform image: the image, the
// runtime base by digest, the Go main module, every dependency with its
// version and go.sum hash, and the Go toolchain. The same input gives the
// same bytes.
func SPDX(in SBOMInput) ([]byte, error) {
	info, err := buildinfo.ReadFile(in.Binary)
	if err != nil {
		return nil, fmt.Errorf("reading the Go build info of %s: %w", in.Binary, err)
	}
	sums, err := GoSums(in.ModuleDir)
	if err != nil {
		return nil, err
	}
	imageDigest := in.Image[strings.LastIndex(in.Image, "@")+1:]
	doc := spdxDoc{
		SPDXVersion:       "SPDX-2.3",
		DataLicense:       "CC0-1.0",
		SPDXID:            "SPDXRef-DOCUMENT",
		Name:              in.Name + " " + in.Platform,
		DocumentNamespace: "https://airgap-go-constructs.invalid/spdx/" + in.Name + "/" + strings.TrimPrefix(imageDigest, "sha256:"),
		CreationInfo:      spdxCreation{Created: time.Unix(in.Created, 0).UTC().Format(time.RFC3339), Creators: []string{"Tool: airgap-kit"}},
	}
	imageID := "SPDXRef-Image"
	doc.Packages = append(doc.Packages, spdxPackage{
		SPDXID: imageID, Name: in.Image, VersionInfo: imageDigest, DownloadLocation: "NOASSERTION", PrimaryPurpose: "CONTAINER",
		Checksums:    []spdxChecksum{{Algorithm: "SHA256", ChecksumValue: strings.TrimPrefix(imageDigest, "sha256:")}},
		ExternalRefs: []spdxRef{{ReferenceCategory: "PACKAGE-MANAGER", ReferenceType: "purl", ReferenceLocator: ociPurl(in.Image)}},
		Comment:      "platform " + in.Platform,
	})
	doc.Relationships = append(doc.Relationships, spdxRelation{"SPDXRef-DOCUMENT", "DESCRIBES", imageID})
	if in.Base != "" {
		baseID := "SPDXRef-Base"
		baseDigest := in.Base[strings.LastIndex(in.Base, "@")+1:]
		doc.Packages = append(doc.Packages, spdxPackage{
			SPDXID: baseID, Name: in.Base, VersionInfo: baseDigest, DownloadLocation: "NOASSERTION", PrimaryPurpose: "CONTAINER",
			Checksums:    []spdxChecksum{{Algorithm: "SHA256", ChecksumValue: strings.TrimPrefix(baseDigest, "sha256:")}},
			ExternalRefs: []spdxRef{{ReferenceCategory: "PACKAGE-MANAGER", ReferenceType: "purl", ReferenceLocator: ociPurl(in.Base)}},
			Comment:      "the runtime base, by the digest of its index or manifest",
		})
		doc.Relationships = append(doc.Relationships, spdxRelation{imageID, "DESCENDANT_OF", baseID})
	}
	mainID := spdxID("Go", info.Main.Path)
	var settings []string
	for _, s := range info.Settings {
		settings = append(settings, s.Key+"="+s.Value)
	}
	doc.Packages = append(doc.Packages, spdxPackage{
		SPDXID: mainID, Name: info.Main.Path, VersionInfo: info.Main.Version, DownloadLocation: "NOASSERTION", PrimaryPurpose: "APPLICATION",
		ExternalRefs: []spdxRef{{ReferenceCategory: "PACKAGE-MANAGER", ReferenceType: "purl", ReferenceLocator: goPurl(info.Main.Path, info.Main.Version)}},
		Comment:      "main package " + info.Path + " built as " + in.Name + "; build settings: " + strings.Join(settings, " "),
	})
	doc.Relationships = append(doc.Relationships, spdxRelation{imageID, "CONTAINS", mainID})
	goID := "SPDXRef-Go-stdlib"
	doc.Packages = append(doc.Packages, spdxPackage{
		SPDXID: goID, Name: "stdlib", VersionInfo: info.GoVersion, DownloadLocation: "https://go.dev/dl/", PrimaryPurpose: "LIBRARY",
		ExternalRefs: []spdxRef{{ReferenceCategory: "PACKAGE-MANAGER", ReferenceType: "purl", ReferenceLocator: goPurl("stdlib", info.GoVersion)}},
		Comment:      "the Go toolchain and standard library the binary was built with",
	})
	doc.Relationships = append(doc.Relationships, spdxRelation{mainID, "DEPENDS_ON", goID})
	deps := append([]*debug.Module(nil), info.Deps...)
	sort.Slice(deps, func(i, j int) bool { return deps[i].Path < deps[j].Path })
	for _, d := range deps {
		m := d
		if d.Replace != nil {
			m = d.Replace
		}
		sum := m.Sum
		from := "the binary's build info"
		if sum == "" {
			sum = sums[m.Path+" "+m.Version]
			from = "go.sum (a vendored build records none)"
		}
		p := spdxPackage{
			SPDXID: spdxID("Go", d.Path), Name: d.Path, VersionInfo: m.Version, DownloadLocation: "https://proxy.golang.org/" + d.Path + "/@v/" + m.Version + ".zip",
			PrimaryPurpose: "LIBRARY",
			ExternalRefs:   []spdxRef{{ReferenceCategory: "PACKAGE-MANAGER", ReferenceType: "purl", ReferenceLocator: goPurl(m.Path, m.Version)}},
		}
		if sum != "" {
			p.Comment = "go.sum " + sum + ", from " + from
			if h := h1Hex(sum); h != "" {
				p.Checksums = []spdxChecksum{{Algorithm: "SHA256", ChecksumValue: h}}
			}
		} else {
			p.Comment = "no go.sum hash: the module has no go.sum line for it"
		}
		if d.Replace != nil {
			p.Comment += "; replaced by " + m.Path + " " + m.Version
		}
		doc.Packages = append(doc.Packages, p)
		doc.Relationships = append(doc.Relationships, spdxRelation{mainID, "DEPENDS_ON", p.SPDXID})
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func goPurl(path, version string) string {
	p := "pkg:golang/" + path
	if version != "" && version != "(devel)" {
		p += "@" + version
	}
	return p
}

func ociPurl(ref string) string {
	at := strings.LastIndex(ref, "@")
	repo, dig := ref, ""
	if at >= 0 {
		repo, dig = ref[:at], ref[at+1:]
	}
	if i := strings.LastIndex(repo, ":"); i > strings.LastIndex(repo, "/") {
		repo = repo[:i]
	}
	name := repo[strings.LastIndex(repo, "/")+1:]
	p := "pkg:oci/" + name
	if dig != "" {
		p += "@" + strings.ReplaceAll(dig, ":", "%3A")
	}
	return p + "?repository_url=" + repo
}

// AttachSBOM pushes doc as an OCI 1.1 artifact whose subject is the image
// manifest, so `oras discover` and pack's referrer walk find it; on a
// registry without the referrers API, oras-go keeps the referrers tag.
func AttachSBOM(ctx context.Context, repoName string, plainHTTP []string, subject ocispec.Descriptor, doc []byte, created int64) (string, error) {
	client, err := images.NewClient(plainHTTP)
	if err != nil {
		return "", err
	}
	repo, err := client.Repository(repoName)
	if err != nil {
		return "", err
	}
	blob := content.NewDescriptorFromBytes(SPDXMediaType, doc)
	// A title, so `oras pull` writes the document out as a file.
	blob.Annotations = map[string]string{ocispec.AnnotationTitle: "sbom.spdx.json"}
	if err := repo.Push(ctx, blob, bytes.NewReader(doc)); err != nil && !errors.Is(err, errdef.ErrAlreadyExists) {
		return "", err
	}
	desc, err := oras.PackManifest(ctx, repo, oras.PackManifestVersion1_1, SPDXMediaType, oras.PackManifestOptions{
		Subject:             &subject,
		Layers:              []ocispec.Descriptor{blob},
		ManifestAnnotations: map[string]string{ocispec.AnnotationCreated: time.Unix(created, 0).UTC().Format(time.RFC3339)},
	})
	if err != nil {
		return "", err
	}
	return desc.Digest.String(), nil
}

func v1Descriptor(mediaType string, raw []byte) ocispec.Descriptor {
	return ocispec.Descriptor{MediaType: mediaType, Digest: digest.FromBytes(raw), Size: int64(len(raw))}
}

// AttachOptions say which pushed image to describe, for `airgap-kit sbom`.
type AttachOptions struct {
	// Image is repository@sha256:…, a single-platform image.
	Image string
	// BinaryPath is the binary's absolute path inside the image.
	BinaryPath string
	// ModuleDir holds the module's go.sum.
	ModuleDir string
	// Base is the runtime base the image was built on, pinned.
	Base string
	// Created is SourceDateEpoch.
	Created int64
	// PlainHTTP are registry hosts spoken to over HTTP.
	PlainHTTP []string
}

// AttachToPushed reads the binary out of a pushed image (from its top-most
// layer that has it), writes its SPDX document and attaches it as a
// referrer: the SBOM of an image an engine built from the Dockerfile.
func AttachToPushed(ctx context.Context, o AttachOptions) (string, error) {
	plain := map[string]bool{}
	for _, h := range o.PlainHTTP {
		plain[h] = true
	}
	ref, err := parseRef(o.Image, plain)
	if err != nil {
		return "", err
	}
	if _, ok := ref.(name.Digest); !ok {
		return "", fmt.Errorf("image %s is not pinned by digest", o.Image)
	}
	img, err := remote.Image(ref, remote.WithContext(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain), remote.WithUserAgent("airgap-kit"))
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", o.Image, err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "airgap-kit-sbom-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, filepath.Base(o.BinaryPath))
	if err := extractFile(img, o.BinaryPath, bin); err != nil {
		return "", fmt.Errorf("%s: %w", o.Image, err)
	}
	platform := cfg.OS + "/" + cfg.Architecture
	if cfg.Variant != "" {
		platform += "/" + cfg.Variant
	}
	doc, err := SPDX(SBOMInput{Binary: bin, ModuleDir: o.ModuleDir, Name: filepath.Base(o.BinaryPath), Platform: platform, Image: o.Image, Base: o.Base, Created: o.Created})
	if err != nil {
		return "", err
	}
	raw, err := img.RawManifest()
	if err != nil {
		return "", err
	}
	mt, err := img.MediaType()
	if err != nil {
		return "", err
	}
	return AttachSBOM(ctx, repoOf(o.Image), o.PlainHTTP, v1Descriptor(string(mt), raw), doc, o.Created)
}

// extractFile copies path out of the top-most layer that holds it.
func extractFile(img v1.Image, path, to string) error {
	layers, err := img.Layers()
	if err != nil {
		return err
	}
	want := strings.TrimPrefix(path, "/")
	for i := len(layers) - 1; i >= 0; i-- {
		rc, err := layers[i].Uncompressed()
		if err != nil {
			return err
		}
		found, err := copyFromTar(rc, want, to)
		rc.Close()
		if err != nil || found {
			return err
		}
	}
	return fmt.Errorf("no layer holds %s", path)
}

func copyFromTar(r io.Reader, want, to string) (bool, error) {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if strings.TrimPrefix(h.Name, "./") != want || h.Typeflag != tar.TypeReg {
			continue
		}
		f, err := os.Create(to)
		if err != nil {
			return false, err
		}
		if _, err := io.Copy(f, tr); err != nil {
			f.Close()
			return false, err
		}
		return true, f.Close()
	}
}
