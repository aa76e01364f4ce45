// Command base-index turns the locally built, single-platform runtime base
// into the multi-platform index an air-gapped site mirrors from distroless:
// the same layers (the base holds no executable, only passwd, CA certificates
// and zoneinfo, so they are the same for every architecture) under one config
// per platform. Tests and benchmarks of GoImage's multi-platform builds run
// against it, since nothing can be pulled here.
//
//	go run . -base REF@sha256:... -tag REPO:TAG -platform linux/amd64 -platform linux/arm64
//
// It prints the index's pinned reference. The output depends only on the
// base and the platforms, so the digest is the same on every run.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(s string) error { *m = append(*m, s); return nil }

func main() {
	base := flag.String("base", "", "the single-platform base, pinned by digest")
	tag := flag.String("tag", "", "where to push the index")
	var platforms multi
	flag.Var(&platforms, "platform", "os/arch[/variant] (repeatable)")
	flag.Parse()
	if err := run(*base, *tag, platforms); err != nil {
		fmt.Fprintln(os.Stderr, "base-index:", err)
		os.Exit(1)
	}
}

func run(base, tag string, platforms []string) error {
	if base == "" || tag == "" || len(platforms) == 0 {
		return fmt.Errorf("-base, -tag and -platform are required")
	}
	bref, err := name.NewDigest(base, name.Insecure)
	if err != nil {
		return err
	}
	tref, err := name.NewTag(tag, name.Insecure)
	if err != nil {
		return err
	}
	img, err := remote.Image(bref)
	if err != nil {
		return err
	}
	mt, err := img.MediaType()
	if err != nil {
		return err
	}
	idxType := types.OCIImageIndex
	if mt == types.DockerManifestSchema2 {
		idxType = types.DockerManifestList
	}
	idx := mutate.IndexMediaType(empty.Index, idxType)
	for _, p := range platforms {
		parts := strings.Split(p, "/")
		if len(parts) < 2 {
			return fmt.Errorf("platform %q is not os/arch[/variant]", p)
		}
		plat := v1.Platform{OS: parts[0], Architecture: parts[1]}
		if len(parts) > 2 {
			plat.Variant = parts[2]
		}
		cf, err := img.ConfigFile()
		if err != nil {
			return err
		}
		cf = cf.DeepCopy()
		cf.OS, cf.Architecture, cf.Variant = plat.OS, plat.Architecture, plat.Variant
		child, err := mutate.ConfigFile(img, cf)
		if err != nil {
			return err
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: child, Descriptor: v1.Descriptor{Platform: &plat}})
	}
	if err := remote.WriteIndex(tref, idx); err != nil {
		return err
	}
	d, err := idx.Digest()
	if err != nil {
		return err
	}
	fmt.Printf("%s@%s\n", tag, d)
	return nil
}
