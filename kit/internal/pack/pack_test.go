package pack

// These tests run pack, verify and push against two real registries
// (Debian's docker-registry, the distribution project's registry 2.8) on
// loopback: a source holding a two-platform index with a referrer, and an
// empty target.

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/mod/sumdb/dirhash"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/airgap-go-constructs/kit/internal/archive"
	"github.com/airgap-go-constructs/kit/internal/images"
	"github.com/airgap-go-constructs/kit/internal/progress"
	"github.com/airgap-go-constructs/kit/internal/sign"
	"github.com/airgap-go-constructs/kit/internal/sums"
)

type registry struct {
	addr    string
	storage string
	cmd     *exec.Cmd
}

func freePort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startRegistry runs docker-registry on loopback with its storage in dir.
func startRegistry(t *testing.T, storage, addr string) *registry {
	t.Helper()
	bin, err := exec.LookPath("docker-registry")
	if err != nil {
		t.Fatalf("docker-registry is not installed (scripts/engine/setup.sh installs it): %v", err)
	}
	if addr == "" {
		addr = freePort(t)
	}
	cfg := filepath.Join(t.TempDir(), "config.yml")
	os.WriteFile(cfg, []byte(fmt.Sprintf("version: 0.1\nlog: {level: error}\nstorage:\n  filesystem: {rootdirectory: %s}\n  delete: {enabled: true}\nhttp:\n  addr: %s\n", storage, addr)), 0o644)
	cmd := exec.Command(bin, "serve", cfg)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := &registry{addr: addr, storage: storage, cmd: cmd}
	t.Cleanup(r.stop)
	for i := 0; i < 100; i++ {
		if resp, err := http.Get("http://" + addr + "/v2/"); err == nil {
			resp.Body.Close()
			return r
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("registry on %s did not start", addr)
	return nil
}

func (r *registry) stop() {
	if r.cmd != nil && r.cmd.Process != nil {
		r.cmd.Process.Signal(syscall.SIGKILL)
		r.cmd.Wait()
		r.cmd = nil
	}
}

func (r *registry) catalog(t *testing.T) []string {
	reg, err := remote.NewRegistry(r.addr)
	if err != nil {
		t.Fatal(err)
	}
	reg.PlainHTTP = true
	var repos []string
	if err := reg.Repositories(context.Background(), "", func(page []string) error { repos = append(repos, page...); return nil }); err != nil {
		t.Fatal(err)
	}
	return repos
}

func repoOf(t *testing.T, addr, name string) *remote.Repository {
	repo, err := remote.NewRepository(addr + "/" + name)
	if err != nil {
		t.Fatal(err)
	}
	repo.PlainHTTP = true
	return repo
}

func pushJSON(t *testing.T, repo *remote.Repository, mediaType string, v any) ocispec.Descriptor {
	t.Helper()
	data, _ := json.Marshal(v)
	desc := content.NewDescriptorFromBytes(mediaType, data)
	if err := repo.Push(context.Background(), desc, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	return desc
}

func pushBlobBytes(t *testing.T, repo *remote.Repository, mediaType string, data []byte) ocispec.Descriptor {
	t.Helper()
	desc := content.NewDescriptorFromBytes(mediaType, data)
	if err := repo.Push(context.Background(), desc, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	return desc
}

// seedIndex pushes a two-platform index (layers random, per platform) tagged
// tag, and an SBOM-like referrer of it; it returns the index descriptor.
func seedIndex(t *testing.T, addr, name, tag string, layers, layerSize int) ocispec.Descriptor {
	t.Helper()
	repo := repoOf(t, addr, name)
	rng := rand.New(rand.NewSource(int64(len(name) + layers)))
	var children []ocispec.Descriptor
	for _, arch := range []string{"amd64", "arm64"} {
		cfg := pushBlobBytes(t, repo, ocispec.MediaTypeImageConfig, []byte(fmt.Sprintf(`{"architecture":%q,"os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`, arch)))
		var ls []ocispec.Descriptor
		for i := 0; i < layers; i++ {
			data := make([]byte, layerSize)
			rng.Read(data)
			ls = append(ls, pushBlobBytes(t, repo, ocispec.MediaTypeImageLayerGzip, data))
		}
		m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, Config: cfg, Layers: ls}
		m.SchemaVersion = 2
		d := pushJSON(t, repo, ocispec.MediaTypeImageManifest, m)
		d.Platform = &ocispec.Platform{OS: "linux", Architecture: arch}
		children = append(children, d)
	}
	idx := ocispec.Index{MediaType: ocispec.MediaTypeImageIndex, Manifests: children}
	idx.SchemaVersion = 2
	data, _ := json.Marshal(idx)
	desc := content.NewDescriptorFromBytes(ocispec.MediaTypeImageIndex, data)
	if err := repo.PushReference(context.Background(), desc, bytes.NewReader(data), tag); err != nil {
		t.Fatal(err)
	}
	// An SBOM attached as a referrer (OCI 1.1 subject); oras-go keeps the
	// referrers tag index itself, as registry 2.8 has no referrers API.
	sbom := pushBlobBytes(t, repo, "application/spdx+json", []byte(`{"spdxVersion":"SPDX-2.3","name":"`+name+`"}`))
	empty := pushBlobBytes(t, repo, ocispec.MediaTypeEmptyJSON, []byte("{}"))
	art := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, ArtifactType: "application/spdx+json", Config: empty, Layers: []ocispec.Descriptor{sbom}, Subject: &desc}
	art.SchemaVersion = 2
	pushJSON(t, repo, ocispec.MediaTypeImageManifest, art)
	return desc
}

// fakeApp writes a synthesized app: stack "images" builds on the far side
// from a base, and stack "preview" (after images) runs an image and needs a provider.
func fakeApp(t *testing.T, dir, target string, base ocispec.Descriptor, providerMirror string) {
	t.Helper()
	fakeAppWith(t, dir, target, base, providerMirror, nil)
}

// fakeAppWith is fakeApp with the artifact types the preview stack's image must have referrers of.
func fakeAppWith(t *testing.T, dir, target string, base ocispec.Descriptor, providerMirror string, referrers []string) {
	t.Helper()
	stacks := map[string]map[string]any{
		"images":  {"name": "images", "workingDirectory": "stacks/images", "dependencies": []string{}},
		"preview": {"name": "preview", "workingDirectory": "stacks/preview", "dependencies": []string{"images"}},
	}
	data, _ := json.Marshal(map[string]any{"stacks": stacks})
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "manifest.json"), data, 0o644)
	h1, err := dirhash.HashDir(filepath.Join(providerMirror, "registry.opentofu.org/hashicorp/fake/1.0.0/linux_amd64"), "", dirhash.Hash1)
	if err != nil {
		t.Fatal(err)
	}
	for name, imgs := range map[string][]StackImage{
		"images":  {{Target: target + "/library/base:1@" + base.Digest.String(), Source: "docker.io/library/base:1@" + base.Digest.String(), Digest: base.Digest.String(), Use: "base", NeededBy: []string{"images/app"}}, {Target: target + "/team/app:ctx-1", Use: "build", NeededBy: []string{"images/app"}}},
		"preview": {{Target: target + "/library/base:1@" + base.Digest.String(), Source: "docker.io/library/base:1@" + base.Digest.String(), Digest: base.Digest.String(), Use: "run", NeededBy: []string{"preview/Env/web"}, Referrers: referrers}},
	} {
		sd := filepath.Join(dir, "stacks", name)
		os.MkdirAll(filepath.Join(sd, "offline"), 0o755)
		files := map[string][]byte{
			"cdk.tf.json":             []byte(`{"terraform":{}}` + "\n"),
			"offline/images.json":     mustJSON(StackImages{FormatVersion: 1, Platforms: []string{"linux/amd64", "linux/arm64"}, Images: imgs}),
			"offline/providers.json":  mustJSON(StackProviders{FormatVersion: 1, Platforms: []string{"linux/amd64"}, Providers: []StackProvider{{Source: "hashicorp/fake", Version: "1.0.0"}}}),
			".terraform.lock.hcl":     []byte("provider \"registry.opentofu.org/hashicorp/fake\" {\n  version     = \"1.0.0\"\n  constraints = \"1.0.0\"\n  hashes = [\n    \"" + h1 + "\",\n  ]\n}\n"),
			"assets/app/x/Dockerfile": []byte("FROM " + target + "/library/base:1@" + base.Digest.String() + "\n"),
		}
		var list []sums.Entry
		for rel, b := range files {
			p := filepath.Join(sd, rel)
			os.MkdirAll(filepath.Dir(p), 0o755)
			os.WriteFile(p, b, 0o644)
			s := sha256.Sum256(b)
			list = append(list, sums.Entry{Path: rel, SHA256: hex.EncodeToString(s[:])})
		}
		sumsData, _ := sums.Format(list)
		os.WriteFile(filepath.Join(sd, "SHA256SUMS"), sumsData, 0o644)
	}
}

func mustJSON(v any) []byte {
	b, _ := json.MarshalIndent(v, "", "  ")
	return b
}

func sshKey(t *testing.T, dir, name string) (string, string) {
	priv := filepath.Join(dir, name)
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", priv).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	return priv, priv + ".pub"
}

type world struct {
	src, dst      *registry
	app, key, pub string
	mirror        string
	base          ocispec.Descriptor
	rep           *progress.Reporter
	dir           string
}

func newWorld(t *testing.T, layers, layerSize int) *world {
	w := &world{dir: t.TempDir(), rep: progress.New(io.Discard, progress.Plain)}
	w.src = startRegistry(t, filepath.Join(w.dir, "src-storage"), "")
	w.dst = startRegistry(t, filepath.Join(w.dir, "dst-storage"), "")
	w.base = seedIndex(t, w.src.addr, "library/base", "1", layers, layerSize)
	w.mirror = filepath.Join(w.dir, "providers")
	pkg := filepath.Join(w.mirror, "registry.opentofu.org/hashicorp/fake/1.0.0/linux_amd64")
	os.MkdirAll(pkg, 0o755)
	os.WriteFile(filepath.Join(pkg, "terraform-provider-fake_v1.0.0"), bytes.Repeat([]byte("provider"), 1000), 0o755)
	w.app = filepath.Join(w.dir, "cdktf.out")
	fakeApp(t, w.app, w.dst.addr, w.base, w.mirror)
	w.key, w.pub = sshKey(t, w.dir, "kit")
	return w
}

func (w *world) pack(t *testing.T, out string, opts Options) *Result {
	t.Helper()
	opts.CdktfOut, opts.Out, opts.Key, opts.ProviderMirror = w.app, out, w.key, w.mirror
	opts.Overrides = []images.Override{{From: "docker.io/library", To: w.src.addr + "/library"}}
	opts.PlainHTTP = []string{w.src.addr}
	opts.Progress = w.rep
	res, err := Pack(context.Background(), opts)
	if err != nil {
		t.Fatalf("pack: %v", err)
	}
	return res
}

func (w *world) push(archive, pub, pin string) (*PushResult, error) {
	return Push(context.Background(), PushOptions{
		VerifyOptions: VerifyOptions{Archive: archive, PublicKey: pub, SHA256SumsHash: pin, Progress: w.rep},
		Out:           filepath.Join(w.dir, "far"),
		PlainHTTP:     []string{w.dst.addr},
	})
}

func manifestBytes(t *testing.T, addr, name, ref string) (ocispec.Descriptor, []byte) {
	repo := repoOf(t, addr, name)
	desc, rc, err := repo.FetchReference(context.Background(), ref)
	if err != nil {
		t.Fatalf("%s/%s@%s: %v", addr, name, ref, err)
	}
	defer rc.Close()
	data, _ := io.ReadAll(rc)
	return desc, data
}

func TestPackVerifyPushKeepsEveryDigest(t *testing.T) {
	w := newWorld(t, 3, 256<<10)
	archive := filepath.Join(w.dir, "kit.tar")
	res := w.pack(t, archive, Options{})
	if len(res.Manifest.Images) != 1 {
		t.Fatalf("images: %+v", res.Manifest.Images)
	}
	img := res.Manifest.Images[0]
	if !img.Index || img.Digest != w.base.Digest.String() || strings.Join(img.Platforms, ",") != "linux/amd64,linux/arm64" {
		t.Fatalf("image record: %+v", img)
	}
	if img.Source != "docker.io/library/base:1@"+w.base.Digest.String() || img.ReadFrom == "" {
		t.Fatalf("the manifest must keep the real source and say where it was read: %+v", img)
	}
	if len(img.Referrers) != 1 {
		t.Fatalf("the SBOM referrer was not carried: %+v", img)
	}
	if got := res.Manifest.Stacks; len(got) != 2 || got[0].Name != "images" || got[1].DependsOn[0] != "images" || got[0].Builds[0] != w.dst.addr+"/team/app:ctx-1" {
		t.Fatalf("stacks: %+v", got)
	}
	if len(res.Manifest.Providers) != 1 || res.Manifest.Providers[0].Platform != "linux_amd64" {
		t.Fatalf("providers: %+v", res.Manifest.Providers)
	}

	if _, err := Verify(context.Background(), VerifyOptions{Archive: archive, PublicKey: w.pub, SHA256SumsHash: res.SHA256SumsHash, Progress: w.rep}); err != nil {
		t.Fatalf("verify: %v", err)
	}
	pushed, err := w.push(archive, w.pub, res.SHA256SumsHash)
	if err != nil {
		t.Fatalf("push: %v", err)
	}
	if !strings.Contains(pushed.Steps, "1. images") || !strings.Contains(pushed.Steps, "2. preview (after images)") || !strings.Contains(pushed.Steps, "tofu init -lockfile=readonly") {
		t.Fatalf("steps: %s", pushed.Steps)
	}
	// Every manifest is byte-identical in source and target, the index by tag too.
	for _, d := range img.Manifests {
		sd, sb := manifestBytes(t, w.src.addr, "library/base", d)
		td, tb := manifestBytes(t, w.dst.addr, "library/base", d)
		if sd.Digest != td.Digest || !bytes.Equal(sb, tb) {
			t.Fatalf("manifest %s differs between source and target", d)
		}
	}
	if td, _ := manifestBytes(t, w.dst.addr, "library/base", "1"); td.Digest != w.base.Digest {
		t.Fatalf("tag 1 resolves to %s in the target", td.Digest)
	}
	refs := []ocispec.Descriptor{}
	repoOf(t, w.dst.addr, "library/base").Referrers(context.Background(), w.base, "", func(p []ocispec.Descriptor) error { refs = append(refs, p...); return nil })
	if len(refs) != 1 || refs[0].Digest.String() != img.Referrers[0] {
		t.Fatalf("referrers in the target: %+v", refs)
	}
	// The stacks and the providers are laid out where tofurc looks.
	for _, p := range []string{"stacks/images/cdk.tf.json", "stacks/preview/.terraform.lock.hcl", "providers/registry.opentofu.org/hashicorp/fake/1.0.0/linux_amd64/terraform-provider-fake_v1.0.0"} {
		if _, err := os.Stat(filepath.Join(w.dir, "far", p)); err != nil {
			t.Fatalf("not laid out: %v", err)
		}
	}
	// A rerun pushes nothing new.
	again, err := w.push(archive, w.pub, res.SHA256SumsHash)
	if err != nil || again.BlobsPushed != 0 || again.BlobsPresent == 0 {
		t.Fatalf("rerun: %v, %+v", err, again)
	}

	// The same inputs give the same archive, byte for byte.
	res2 := w.pack(t, filepath.Join(w.dir, "kit2.tar"), Options{})
	if res2.SHA256SumsHash != res.SHA256SumsHash {
		t.Fatalf("pack is not deterministic: %s then %s", res.SHA256SumsHash, res2.SHA256SumsHash)
	}
}

func TestReferrersTheKitListsMustBeThere(t *testing.T) {
	w := newWorld(t, 1, 1<<10)
	// The seeded index carries an SPDX referrer: listed, it is found and carried.
	fakeAppWith(t, w.app, w.dst.addr, w.base, w.mirror, []string{"application/spdx+json"})
	res := w.pack(t, filepath.Join(w.dir, "ok.tar"), Options{})
	if len(res.Manifest.Images[0].Referrers) != 1 {
		t.Fatalf("the SBOM referrer was not carried: %+v", res.Manifest.Images[0])
	}
	// A CycloneDX document the kit lists but the registry lacks fails the pack, naming the type.
	fakeAppWith(t, w.app, w.dst.addr, w.base, w.mirror, []string{"application/vnd.cyclonedx+json"})
	_, err := Pack(context.Background(), Options{
		CdktfOut: w.app, Out: filepath.Join(w.dir, "bad.tar"), Key: w.key, ProviderMirror: w.mirror,
		Overrides: []images.Override{{From: "docker.io/library", To: w.src.addr + "/library"}}, PlainHTTP: []string{w.src.addr}, Progress: w.rep,
	})
	if err == nil || !strings.Contains(err.Error(), "lists a application/vnd.cyclonedx+json referrer for it") {
		t.Fatalf("want the missing referrer named, got %v", err)
	}
	if _, statErr := os.Stat(filepath.Join(w.dir, "bad.tar")); statErr == nil {
		t.Fatal("a failed pack left an archive behind")
	}
}

func TestPlatformsNamedNarrowTheIndex(t *testing.T) {
	w := newWorld(t, 1, 1024)
	res := w.pack(t, filepath.Join(w.dir, "kit.tar"), Options{Platforms: []string{"linux/arm64"}})
	img := res.Manifest.Images[0]
	if strings.Join(img.Platforms, ",") != "linux/arm64" || strings.Join(img.Skipped, ",") != "linux/amd64" {
		t.Fatalf("%+v", img)
	}
	// The index itself is carried unchanged, so its pinned digest still resolves.
	if img.Digest != w.base.Digest.String() || img.Manifests[len(img.Manifests)-2] != w.base.Digest.String() {
		t.Fatalf("%+v", img.Manifests)
	}
	// A registry that checks an index's children (distribution does) refuses the narrowed one: push says why and what to do.
	_, err := w.push(filepath.Join(w.dir, "kit.tar"), w.pub, res.SHA256SumsHash)
	if err == nil || !strings.Contains(err.Error(), "without its linux/amd64 manifests") || !strings.Contains(err.Error(), "pack again naming every platform") {
		t.Fatalf("push of a narrowed index: %v", err)
	}
}

// rewrite copies an archive's entries into a new uncompressed one, letting edit change or drop each.
func rewrite(t *testing.T, from, to string, edit func(name string, data []byte) ([]byte, bool)) {
	t.Helper()
	f, _ := os.Open(from)
	defer f.Close()
	out, _ := os.Create(to)
	defer out.Close()
	tr, tw := tar.NewReader(f), tar.NewWriter(out)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		data, _ := io.ReadAll(tr)
		data, keep := edit(hdr.Name, data)
		if !keep {
			continue
		}
		hdr.Size = int64(len(data))
		tw.WriteHeader(hdr)
		tw.Write(data)
	}
	tw.Close()
}

// appended copies an archive with bytes after its end.
func appended(t *testing.T, from, to string) string {
	data, _ := os.ReadFile(from)
	os.WriteFile(to, append(data, []byte("trailing garbage")...), 0o644)
	return to
}

// Every fault makes verify and push refuse, names the problem, and leaves the target registry empty.
func TestFaultsAreRefusedAndTheTargetStaysEmpty(t *testing.T) {
	w := newWorld(t, 4, 300<<10)
	split := filepath.Join(w.dir, "split", "kit.tar.zst")
	os.MkdirAll(filepath.Dir(split), 0o755)
	res := w.pack(t, split, Options{Archive: archiveOptions(true, 512<<10)})
	if len(res.Paths) < 3 {
		t.Fatalf("want at least 3 parts, got %v", res.Paths)
	}
	plain := filepath.Join(w.dir, "kit.tar")
	plainRes := w.pack(t, plain, Options{})
	_, otherPub := sshKey(t, w.dir, "other")
	otherKey, _ := sshKey(t, w.dir, "other2")

	type fault struct {
		name    string
		archive string
		pub     string
		pin     string
		want    string
	}
	var faults []fault
	rng := rand.New(rand.NewSource(7))
	for i, part := range res.Paths {
		dir := filepath.Join(w.dir, fmt.Sprintf("flip%d", i))
		os.MkdirAll(dir, 0o755)
		var copies []string
		for _, p := range res.Paths {
			data, _ := os.ReadFile(p)
			if p == part {
				data[rng.Intn(len(data))] ^= 0x10
			}
			c := filepath.Join(dir, filepath.Base(p))
			os.WriteFile(c, data, 0o644)
			copies = append(copies, c)
		}
		faults = append(faults, fault{fmt.Sprintf("flipped byte in part %d", i), copies[0], w.pub, res.SHA256SumsHash, ""})
	}
	plainData, _ := os.ReadFile(plain)
	for _, off := range []int{rng.Intn(1024), len(plainData)/2 + rng.Intn(1024), len(plainData) - 1 - rng.Intn(2048)} {
		data := append([]byte(nil), plainData...)
		data[off] ^= 0x01
		p := filepath.Join(w.dir, fmt.Sprintf("flip-plain-%d.tar", off))
		os.WriteFile(p, data, 0o644)
		faults = append(faults, fault{fmt.Sprintf("flipped byte at offset %d of an uncompressed archive", off), p, w.pub, plainRes.SHA256SumsHash, ""})
	}
	trunc := filepath.Join(w.dir, "trunc.tar")
	os.WriteFile(trunc, plainData[:len(plainData)*2/3], 0o644)
	faults = append(faults, fault{"truncated archive", trunc, w.pub, plainRes.SHA256SumsHash, "missing from the archive"})
	missing := filepath.Join(w.dir, "missing")
	os.MkdirAll(missing, 0o755)
	for i, p := range res.Paths {
		if i != 1 {
			data, _ := os.ReadFile(p)
			os.WriteFile(filepath.Join(missing, filepath.Base(p)), data, 0o644)
		}
	}
	faults = append(faults, fault{"missing part", filepath.Join(missing, "kit.tar.zst"), w.pub, res.SHA256SumsHash, "kit.tar.zst.001 is missing"})
	lastMissing := filepath.Join(w.dir, "lastmissing")
	os.MkdirAll(lastMissing, 0o755)
	for _, p := range res.Paths[:len(res.Paths)-1] {
		data, _ := os.ReadFile(p)
		os.WriteFile(filepath.Join(lastMissing, filepath.Base(p)), data, 0o644)
	}
	faults = append(faults, fault{"missing last part", filepath.Join(lastMissing, "kit.tar.zst"), w.pub, res.SHA256SumsHash, "truncated"})
	noSig := filepath.Join(w.dir, "nosig.tar")
	rewrite(t, plain, noSig, func(name string, data []byte) ([]byte, bool) { return data, name != SignatureName })
	faults = append(faults, fault{"missing signature", noSig, w.pub, plainRes.SHA256SumsHash, "the signature is missing"})
	badSig := filepath.Join(w.dir, "badsig.tar")
	otherSigner, _ := signerFor(otherKey)
	rewrite(t, plain, badSig, func(name string, data []byte) ([]byte, bool) {
		if name == SignatureName {
			sig, _ := otherSigner.Sign([]byte("something else\n"))
			return sig, true
		}
		return data, true
	})
	faults = append(faults, fault{"signature by another key", badSig, w.pub, plainRes.SHA256SumsHash, "not by the trusted key"})
	forged := filepath.Join(w.dir, "forged.tar")
	rewrite(t, plain, forged, func(name string, data []byte) ([]byte, bool) {
		if name == ManifestName {
			return bytes.Replace(data, []byte(`"formatVersion": 1`), []byte(`"formatVersion": 1 `), 1), true
		}
		return data, true
	})
	faults = append(faults, fault{"a file changed after pack", forged, w.pub, plainRes.SHA256SumsHash, "manifest.json has sha256"})
	// Another archive, signed by the same key: the signature holds, the pin does not.
	other := w.pack(t, filepath.Join(w.dir, "other.tar"), Options{Stacks: []string{"images"}})
	faults = append(faults, fault{"another archive signed by the same key", other.Paths[0], w.pub, plainRes.SHA256SumsHash, "not the pinned"})
	faults = append(faults, fault{"wrong key", plain, otherPub, plainRes.SHA256SumsHash, "not by the trusted key"})
	faults = append(faults, fault{"wrong pin", plain, w.pub, strings.Repeat("0", 64), "not the pinned"})
	faults = append(faults, fault{"data after the end", appended(t, plain, filepath.Join(w.dir, "appended.tar")), w.pub, plainRes.SHA256SumsHash, "after its end"})

	for _, f := range faults {
		t.Run(f.name, func(t *testing.T) {
			_, verr := Verify(context.Background(), VerifyOptions{Archive: f.archive, PublicKey: f.pub, SHA256SumsHash: f.pin, Progress: w.rep})
			if verr == nil {
				t.Fatal("verify passed")
			}
			if f.want != "" && !strings.Contains(verr.Error(), f.want) {
				t.Fatalf("verify said %q, want it to name %q", verr, f.want)
			}
			if _, err := w.push(f.archive, f.pub, f.pin); err == nil {
				t.Fatal("push passed")
			}
			if repos := w.dst.catalog(t); len(repos) != 0 {
				t.Fatalf("the target registry is not empty after a refused push: %v", repos)
			}
			if _, err := os.Stat(filepath.Join(w.dir, "far")); err == nil {
				t.Fatal("push laid stacks out from an archive that failed verification")
			}
			t.Logf("refused: %v", strings.ReplaceAll(verr.Error(), "\n", " | "))
		})
	}
}

// A registry that dies in the middle of a push: the rerun completes, with every digest intact.
func TestPushResumesAfterTheRegistryDies(t *testing.T) {
	w := newWorld(t, 24, 1<<20)
	archive := filepath.Join(w.dir, "kit.tar")
	res := w.pack(t, archive, Options{})
	blobDir := filepath.Join(w.dst.storage, "docker/registry/v2/blobs/sha256")
	done := make(chan error, 1)
	go func() {
		_, err := w.push(archive, w.pub, res.SHA256SumsHash)
		done <- err
	}()
	killed := false
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) && !killed {
		if n := countBlobs(blobDir); n >= 4 {
			w.dst.stop()
			killed = true
		}
		time.Sleep(2 * time.Millisecond)
	}
	err := <-done
	if !killed || err == nil {
		t.Fatalf("the registry was not killed mid-push (killed=%v, push error %v)", killed, err)
	}
	partial := countBlobs(blobDir)
	t.Logf("push failed as the registry died after %d blobs: %v", partial, err)
	w.dst = startRegistry(t, w.dst.storage, w.dst.addr)
	again, err := w.push(archive, w.pub, res.SHA256SumsHash)
	if err != nil {
		t.Fatalf("rerun: %v", err)
	}
	if again.BlobsPresent == 0 || again.BlobsPushed == 0 {
		t.Fatalf("the rerun should skip what was pushed and push the rest: %+v", again)
	}
	img := res.Manifest.Images[0]
	for _, d := range append(append([]string(nil), img.Manifests...), img.Blobs...) {
		repo := repoOf(t, w.dst.addr, "library/base")
		desc := ocispec.Descriptor{Digest: digest.Digest(d)}
		var ok bool
		if contains(img.Manifests, d) {
			ok, err = repo.Manifests().Exists(context.Background(), desc)
		} else {
			ok, err = repo.Blobs().Exists(context.Background(), desc)
		}
		if !ok || err != nil {
			t.Fatalf("%s is missing after the rerun: %v", d, err)
		}
	}
	if td, _ := manifestBytes(t, w.dst.addr, "library/base", "1"); td.Digest != w.base.Digest {
		t.Fatalf("tag resolves to %s", td.Digest)
	}
}

func countBlobs(dir string) int {
	n := 0
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && info.Name() == "data" {
			n++
		}
		return nil
	})
	return n
}

func archiveOptions(zstd bool, part int64) archive.Options {
	return archive.Options{Zstd: zstd, PartSize: part}
}

func signerFor(path string) (*sign.Signer, error) { return sign.LoadSigner(path) }
