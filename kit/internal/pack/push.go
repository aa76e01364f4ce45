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
	"sync"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/errgroup"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/airgap-go-constructs/kit/internal/archive"
	"github.com/airgap-go-constructs/kit/internal/images"
	"github.com/airgap-go-constructs/kit/internal/progress"
)

// PushOptions for Push.
type PushOptions struct {
	VerifyOptions
	// Out is where the stacks and providers are laid out (Out/stacks, Out/providers).
	Out string
	// PlainHTTP hosts are written over HTTP.
	PlainHTTP []string
}

// PushResult is what Push did.
type PushResult struct {
	Manifest      *Manifest
	BlobsPushed   int
	BlobsPresent  int
	ManifestsDone int
	Bytes         int64
	Steps         string
}

// Push verifies the archive, then pushes every image into the registry its
// target names, digest for digest, and lays the stacks and providers out in
// Out. Blobs the registry already has are skipped, so a rerun after a
// failure resumes; manifests are pushed as the exact bytes carried, children
// before parents, and the digest the registry echoes must be the one carried.
func Push(ctx context.Context, opts PushOptions) (*PushResult, error) {
	v, err := Verify(ctx, opts.VerifyOptions)
	if err != nil {
		return nil, err
	}
	m := v.Manifest
	rep := opts.Progress
	client, err := images.NewClient(opts.PlainHTTP)
	if err != nil {
		return nil, err
	}

	// Which repositories need each digest, and what each manifest is.
	blobRepos := map[string][]string{}
	manifestRepos := map[string][]string{}
	mediaTypes := map[string]string{}
	roots := map[string][]images.Ref{}
	narrowed := map[string][]string{}
	var total int64
	for _, img := range m.Images {
		target, err := images.ParseRef(img.Target)
		if err != nil {
			return nil, err
		}
		for _, b := range img.Blobs {
			blobRepos[b] = union(blobRepos[b], []string{target.Name()})
		}
		for _, d := range img.Manifests {
			manifestRepos[d] = union(manifestRepos[d], []string{target.Name()})
		}
		mediaTypes[img.Digest] = img.MediaType
		narrowed[img.Digest] = img.Skipped
		roots[img.Digest] = append(roots[img.Digest], target)
		total += img.Bytes
	}
	var reposMu sync.Mutex
	repos := map[string]*remote.Repository{}
	repo := func(name string) (*remote.Repository, error) {
		reposMu.Lock()
		defer reposMu.Unlock()
		if r, ok := repos[name]; ok {
			return r, nil
		}
		r, err := client.Repository(name)
		if err != nil {
			return nil, err
		}
		repos[name] = r
		return r, nil
	}

	if err := os.MkdirAll(filepath.Dir(filepath.Clean(opts.Out)), 0o755); err != nil {
		return nil, err
	}
	staging, err := os.MkdirTemp(filepath.Dir(filepath.Clean(opts.Out)), "."+filepath.Base(opts.Out)+".partial-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(staging)

	res := &PushResult{Manifest: m}
	var resMu sync.Mutex
	// One entry of the second pass. Every entry is checked against the signed
	// SHA256SUMS again: stack files and manifests here, blobs by the registry,
	// which refuses content that does not match the digest it is pushed as.
	handle := func(name string, size int64, body io.Reader, counted bool) error {
		want, _ := v.Sums.Lookup(name)
		switch {
		case strings.HasPrefix(name, "cdktf.out/"):
			return extract(staging, strings.TrimPrefix(name, "cdktf.out/"), body, want, v.Executable[name])
		case strings.HasPrefix(name, OCIDir+"/blobs/sha256/"):
			d := "sha256:" + strings.TrimPrefix(name, OCIDir+"/blobs/sha256/")
			if targets, isManifest := manifestRepos[d]; isManifest {
				data, err := io.ReadAll(io.LimitReader(body, 64<<20))
				if err != nil {
					return err
				}
				if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != want {
					return fmt.Errorf("manifest %s changed since it was verified", d)
				}
				mt, err := manifestMediaType(data, mediaTypes[d])
				if err != nil {
					return fmt.Errorf("manifest %s: %w", d, err)
				}
				desc := ocispec.Descriptor{MediaType: mt, Digest: digest.Digest(d), Size: int64(len(data))}
				for _, target := range targets {
					rp, err := repo(target)
					if err != nil {
						return err
					}
					if err := pushManifest(ctx, rp, desc, data, roots[d]); err != nil {
						if skipped := narrowed[d]; len(skipped) > 0 {
							return fmt.Errorf("%w\nthe archive carries this index without its %s manifests (pack named platforms), and this registry refuses an index whose children are not all there, as docker distribution does: pack again naming every platform, or without -platform (and AirgapStack platforms)", err, strings.Join(skipped, ", "))
						}
						return err
					}
				}
				resMu.Lock()
				res.ManifestsDone++
				resMu.Unlock()
				rep.Add(int64(len(data)))
			} else if targets := blobRepos[d]; len(targets) > 0 {
				desc := ocispec.Descriptor{MediaType: "application/octet-stream", Digest: digest.Digest(d), Size: size}
				if !counted {
					body = rep.Counter(body)
				}
				pushed, err := pushBlob(ctx, repo, targets, desc, body)
				if err != nil {
					return err
				}
				if counted {
					rep.Add(size)
				}
				resMu.Lock()
				if pushed {
					res.BlobsPushed++
					res.Bytes += size
				} else {
					res.BlobsPresent++
				}
				resMu.Unlock()
			}
		}
		return nil
	}
	isBlob := func(name string) bool {
		if !strings.HasPrefix(name, OCIDir+"/blobs/sha256/") {
			return false
		}
		_, isManifest := manifestRepos["sha256:"+strings.TrimPrefix(name, OCIDir+"/blobs/sha256/")]
		return !isManifest
	}

	rep.Begin("push", total)
	if v.Offsets != nil {
		// An uncompressed archive: read the verified byte ranges again in place,
		// blobs four at a time (as a registry takes them fastest), then the
		// manifests in archive order, children before parents.
		c, err := archive.OpenConcat(v.Parts)
		if err != nil {
			return nil, err
		}
		defer c.Close()
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(4)
		for _, name := range v.Order {
			if !isBlob(name) {
				continue
			}
			span, name := v.Offsets[name], name
			g.Go(func() error {
				if err := gctx.Err(); err != nil {
					return err
				}
				// The blob is read as is, so the upload can go by sendfile; progress counts it whole.
				body, done, err := c.Open(span.Offset, span.Size)
				if err != nil {
					return err
				}
				defer done()
				return handle(name, span.Size, body, true)
			})
		}
		if err := g.Wait(); err != nil {
			return nil, err
		}
		for _, name := range v.Order {
			if isBlob(name) {
				continue
			}
			span := v.Offsets[name]
			if err := handle(name, span.Size, c.Section(span.Offset, span.Size), false); err != nil {
				return nil, err
			}
		}
	} else {
		// A compressed archive streams once more, in order: blobs lead their manifests.
		r, err := archive.Open(opts.Archive)
		if err != nil {
			return nil, err
		}
		defer r.Close()
		for {
			e, err := r.Next()
			if err == archive.ErrEnd {
				break
			}
			if err != nil {
				return nil, err
			}
			if _, ok := v.Sums.Lookup(e.Name); !ok && e.Name != SumsName && e.Name != SignatureName {
				return nil, fmt.Errorf("%s is not in SHA256SUMS (the archive changed since it was verified)", e.Name)
			}
			if err := handle(e.Name, e.Size, e.Body, false); err != nil {
				return nil, err
			}
			// What handle does not use (the signature, the manifest, index.json) is read past.
			if _, err := io.Copy(io.Discard, e.Body); err != nil {
				return nil, err
			}
		}
		if err := r.Finish(); err != nil {
			return nil, err
		}
	}
	// The tags must now resolve to exactly the carried digests.
	for _, img := range m.Images {
		target, _ := images.ParseRef(img.Target)
		rp, err := repo(target.Name())
		if err != nil {
			return nil, err
		}
		got, err := rp.Resolve(ctx, target.Reference())
		if err != nil {
			return nil, fmt.Errorf("image %s: after the push the registry does not resolve it: %w", target, err)
		}
		if got.Digest.String() != img.Digest {
			return nil, fmt.Errorf("image %s: the registry resolves it to %s, not the carried %s", target, got.Digest, img.Digest)
		}
	}
	if err := os.RemoveAll(opts.Out); err != nil {
		return nil, err
	}
	if err := os.Rename(staging, opts.Out); err != nil {
		return nil, err
	}
	res.Steps = steps(m, opts.Out, v)
	rep.End(fmt.Sprintf("%d images: %d blobs pushed (%s), %d already there, %d manifests; stacks in %s", len(m.Images), res.BlobsPushed, progress.Bytes(res.Bytes), res.BlobsPresent, res.ManifestsDone, opts.Out))
	return res, nil
}

// pushBlob pushes one blob to the first repository that lacks it, and mounts
// it from there into the others. It returns false when every one had it.
func pushBlob(ctx context.Context, repo func(string) (*remote.Repository, error), targets []string, desc ocispec.Descriptor, body io.Reader) (bool, error) {
	var missing []string
	var holder string
	for _, name := range targets {
		rp, err := repo(name)
		if err != nil {
			return false, err
		}
		// A registry that died mid-push can answer 500 for a blob it half
		// stored; pushing it again is always safe (blobs are content-addressed)
		// and repairs that, so any answer but "present" means push.
		ok, err := rp.Blobs().Exists(ctx, desc)
		if err != nil && ctx.Err() != nil {
			return false, ctx.Err()
		}
		if ok {
			holder = name
		} else {
			missing = append(missing, name)
		}
	}
	if len(missing) == 0 {
		_, err := io.Copy(io.Discard, body)
		return false, err
	}
	consumed := false
	for _, name := range missing {
		rp, _ := repo(name)
		if holder != "" {
			if err := rp.Mount(ctx, desc, strings.SplitN(holder, "/", 2)[1], nil); err == nil {
				continue
			}
		}
		if consumed {
			return false, fmt.Errorf("blob %s: the registry refused to mount it into %s from %s; push again", desc.Digest, name, holder)
		}
		// The registry checks the content against desc.Digest and refuses a mismatch.
		if err := rp.Push(ctx, desc, body); err != nil {
			return false, fmt.Errorf("pushing blob %s to %s: %w (rerun push: blobs already pushed are skipped)", desc.Digest, name, err)
		}
		consumed, holder = true, name
	}
	if !consumed {
		_, err := io.Copy(io.Discard, body)
		return true, err
	}
	return true, nil
}

// pushManifest pushes the carried bytes unless the registry has them, and tags roots.
func pushManifest(ctx context.Context, rp *remote.Repository, desc ocispec.Descriptor, data []byte, roots []images.Ref) error {
	// As for blobs: anything but "present" means push (a manifest is content-addressed too).
	has, err := rp.Manifests().Exists(ctx, desc)
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	// A tagged root goes up once, by its tag; everything else by digest. Either
	// way oras-go checks that the Docker-Content-Digest the registry answers is desc.Digest.
	var tags []string
	for _, root := range roots {
		if root.Tag != "" && root.Name() == rp.Reference.Registry+"/"+rp.Reference.Repository {
			tags = append(tags, root.Tag)
		}
	}
	if !has && len(tags) == 0 {
		if err := rp.Manifests().Push(ctx, desc, bytes.NewReader(data)); err != nil {
			return fmt.Errorf("pushing manifest %s to %s: %w", desc.Digest, rp.Reference, err)
		}
	}
	for _, tag := range tags {
		if err := rp.Manifests().PushReference(ctx, desc, bytes.NewReader(data), tag); err != nil {
			return fmt.Errorf("pushing %s as %s:%s: %w", desc.Digest, rp.Reference, tag, err)
		}
	}
	return nil
}

// manifestMediaType is the carried manifest's own mediaType, or the one the manifest recorded.
func manifestMediaType(data []byte, recorded string) (string, error) {
	var probe struct {
		MediaType string `json:"mediaType"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return "", err
	}
	if probe.MediaType != "" {
		return probe.MediaType, nil
	}
	if recorded != "" {
		return recorded, nil
	}
	return ocispec.MediaTypeImageManifest, nil
}

// extract writes one carried file below dir, re-hashing it on the way.
func extract(dir, rel string, body io.Reader, want string, executable bool) error {
	if strings.Contains(rel, "..") || strings.HasPrefix(rel, "/") {
		return fmt.Errorf("refusing to write %q outside the output folder", rel)
	}
	target := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return err
	}
	mode := os.FileMode(0o644)
	if executable {
		mode = 0o755
	}
	f, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(f, h), body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if hex.EncodeToString(h.Sum(nil)) != want {
		return fmt.Errorf("cdktf.out/%s changed since it was verified", rel)
	}
	return nil
}

// steps is what the operator runs next, per stack in dependency order.
func steps(m *Manifest, out string, v *Verified) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Next, per stack, in this order (providers come from %s):\n", path.Join(out, "providers"))
	for i, s := range m.Stacks {
		dir := path.Join(out, strings.TrimPrefix(s.Dir, "cdktf.out/"))
		note := ""
		if len(s.DependsOn) > 0 {
			note = " (after " + strings.Join(s.DependsOn, ", ") + ")"
		}
		if len(s.Builds) > 0 {
			sort.Strings(s.Builds)
			note += "; builds " + strings.Join(s.Builds, ", ") + " here, from the carried bases"
		}
		pin := ""
		if h, ok := v.Sums.Lookup(path.Join("cdktf.out", s.Dir, "SHA256SUMS")); ok {
			pin = " " + h
		}
		fmt.Fprintf(&b, "\n%d. %s%s\n   cd %s\n   ./offline/verify.sh%s\n   TF_CLI_CONFIG_FILE=offline/tofurc tofu init -lockfile=readonly\n   TF_CLI_CONFIG_FILE=offline/tofurc tofu apply\n", i+1, s.Name, note, dir, pin)
	}
	return b.String()
}
