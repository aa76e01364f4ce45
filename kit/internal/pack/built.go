package pack

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/airgap-go-constructs/kit/internal/images"
)

// BuiltImages is what `airgap-kit built-images` writes: the digest each
// image a stack builds was pushed with, by its target (registry/repo:tag).
// With it, synth pins the images literally (AirgapStack context key
// airgap-go-constructs:builtImages), so the stacks that run them need
// nothing from the stack that built them: build outside the gap.
type BuiltImages struct {
	FormatVersion int               `json:"formatVersion"`
	Images        map[string]string `json:"images"`
}

// ResolveBuilt resolves, in its registry, every image the named stacks build.
func ResolveBuilt(ctx context.Context, cdktfOut string, stackNames []string, plainHTTP []string) (*BuiltImages, error) {
	stacks, err := readStacks(cdktfOut)
	if err != nil {
		return nil, err
	}
	if stacks, err = selectStacks(stacks, nil); err != nil {
		return nil, err
	}
	client, err := images.NewClient(plainHTTP)
	if err != nil {
		return nil, err
	}
	out := &BuiltImages{FormatVersion: FormatV1, Images: map[string]string{}}
	for _, s := range stacks {
		if len(stackNames) > 0 && !contains(stackNames, s.Name) {
			continue
		}
		var si StackImages
		if err := readJSON(filepath.Join(cdktfOut, filepath.FromSlash(s.Dir), "offline", "images.json"), &si); err != nil {
			return nil, fmt.Errorf("stack %s: %w", s.Name, err)
		}
		for _, img := range si.Images {
			if img.Use != "build" {
				continue
			}
			ref, err := images.ParseRef(img.Target)
			if err != nil {
				return nil, err
			}
			repo, err := client.Repository(ref.Name())
			if err != nil {
				return nil, err
			}
			desc, err := repo.Resolve(ctx, ref.Reference())
			if err != nil {
				return nil, fmt.Errorf("image %s (built by stack %s) is not in its registry: apply the stack on this side first (%w)", ref, s.Name, err)
			}
			out.Images[ref.String()] = desc.Digest.String()
		}
	}
	if len(out.Images) == 0 {
		return nil, fmt.Errorf("no stack of %s builds an image", cdktfOut)
	}
	return out, nil
}
