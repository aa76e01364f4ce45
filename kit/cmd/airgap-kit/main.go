// Command airgap-kit carries an airgap-go-constructs app across the gap:
//
//	airgap-kit pack    (connected side) one signed archive of every image, provider and stack the app needs
//	airgap-kit verify  (far side) check it against the trusted key and the pinned sha256
//	airgap-kit push    (far side) verify, push the images digest for digest, lay the stacks out
//
// Run any command with -h for its flags. Exit status: 0 on success, 1 when
// a check fails or a copy breaks, 2 for a usage error.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"github.com/airgap-go-constructs/kit/internal/build"
	"github.com/airgap-go-constructs/kit/internal/images"
	"github.com/airgap-go-constructs/kit/internal/pack"
	"github.com/airgap-go-constructs/kit/internal/progress"
)

var version = "dev" // -ldflags "-X main.version=..."

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `usage: airgap-kit <command> [flags]

commands:
  pack     on the connected side: write one signed archive of every image,
           provider and stack a synthesized app needs
  verify   on the far side: check an archive against the trusted public key
           and its pin, touching nothing
  push     on the far side: verify, then push every image into the internal
           registry digest for digest, and lay the stacks and providers out
  built-images
           on the connected side, after applying the image stack there:
           write the digest of every image it built, for a synth that pins
           them (build outside the gap)
  build-image
           what GoImage's host-Go mode runs at apply: go build per
           platform, one layer on the pinned base, push by digest, SBOM
  sbom     what a Dockerfile-built GoImage with sbom runs at apply: read
           the binary out of the pushed image, attach its SPDX SBOM
  previews list|reap
           in the cluster's pipeline: the preview environments and their
           expiry; destroy the expired ones through Terraform
  version  print the version

Run "airgap-kit <command> -h" for a command's flags.
`

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(s string) error { *m = append(*m, s); return nil }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	case "version", "-version", "--version":
		fmt.Fprintf(stdout, "airgap-kit %s (%s, %s/%s)\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return 0
	case "pack":
		return runPack(ctx, args[1:], stdout, stderr)
	case "verify":
		return runVerify(ctx, args[1:], stdout, stderr)
	case "push":
		return runPush(ctx, args[1:], stdout, stderr)
	case "built-images":
		return runBuilt(ctx, args[1:], stdout, stderr)
	case "build-image":
		return runBuildImage(ctx, args[1:], stdout, stderr)
	case "sbom":
		return runSBOM(ctx, args[1:], stdout, stderr)
	case "previews":
		return runPreviews(ctx, args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "airgap-kit: unknown command %q\n\n%s", args[0], usage)
	return 2
}

// common are the output flags every command has.
type common struct {
	json bool
}

func (c *common) register(fs *flag.FlagSet) {
	fs.BoolVar(&c.json, "json", false, "write progress and the result as JSON lines on stdout")
}

func (c *common) reporter(stderr io.Writer) *progress.Reporter {
	if c.json {
		return progress.New(os.Stdout, progress.JSON)
	}
	mode := progress.Plain
	if f, ok := stderr.(*os.File); ok {
		mode = progress.Detect(f)
	}
	return progress.New(stderr, mode)
}

func newFlags(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("airgap-kit "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: airgap-kit %s %s\n\nflags:\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse handles -h (exit 0 with usage on stdout) and flag errors (exit 2).
func parse(fs *flag.FlagSet, args []string, stdout io.Writer) (int, bool) {
	for _, a := range args {
		if a == "-h" || a == "-help" || a == "--help" {
			fs.SetOutput(stdout)
			fs.Usage()
			return 0, false
		}
	}
	if err := fs.Parse(args); err != nil {
		return 2, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "%s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		fs.Usage()
		return 2, false
	}
	return 0, true
}

func fail(stderr io.Writer, cmd string, err error) int {
	fmt.Fprintf(stderr, "airgap-kit %s: %v\n", cmd, err)
	if errors.Is(err, context.Canceled) {
		return 130
	}
	return 1
}

func runPack(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("pack", "-key KEY -out ARCHIVE [-cdktf-out DIR] [-provider-mirror DIR|URL] [flags]", stderr)
	var c common
	c.register(fs)
	cdktfOut := fs.String("cdktf-out", "cdktf.out", "the synthesized app")
	out := fs.String("out", "", "archive to write (required); with -split-size, parts ARCHIVE.000, ARCHIVE.001, …")
	key := fs.String("key", "", "OpenSSH private key that signs the archive (required; make one with ssh-keygen -t ed25519 -N '' -f kit-key)")
	mirror := fs.String("provider-mirror", "", "provider mirror: a folder (tofu providers mirror DIR) or a network mirror URL")
	zstd := fs.Bool("zstd", false, "compress the archive with zstd")
	split := fs.String("split-size", "", "split the archive into parts of at most this size (such as 2G, 700M)")
	var overrides, plain, platforms, clis, binaries, stacks multi
	fs.Var(&stacks, "stack", "stack to carry (repeatable; default: every stack)")
	fs.Var(&overrides, "source-override", "read images of prefix FROM from TO on this side, FROM=TO (repeatable), such as docker.io/library=mirror.corp/library; the manifest keeps the real source")
	fs.Var(&plain, "plain-http", "registry host to read over plain HTTP (repeatable)")
	fs.Var(&platforms, "platform", "index platform to carry, such as linux/amd64 (repeatable; default: the stacks' platforms, and every platform when they name none); registries that check an index's children (docker distribution) refuse a narrowed index")
	fs.Var(&clis, "cli", "CLI whose provider tree to carry: tofu or terraform (repeatable; default tofu)")
	fs.Var(&binaries, "binary", "static airgap-kit binary for the far side, PLATFORM=PATH (repeatable)")
	if code, ok := parse(fs, args, stdout); !ok {
		return code
	}
	if *out == "" || *key == "" {
		fmt.Fprintln(stderr, "airgap-kit pack: -out and -key are required")
		fs.Usage()
		return 2
	}
	opts := pack.Options{CdktfOut: *cdktfOut, Out: *out, Key: *key, ProviderMirror: *mirror, PlainHTTP: plain, Platforms: platforms, CLIs: clis, Binaries: map[string]string{}, Stacks: stacks}
	for _, o := range overrides {
		ov, err := images.ParseOverride(o)
		if err != nil {
			fmt.Fprintf(stderr, "airgap-kit pack: %v\n", err)
			return 2
		}
		opts.Overrides = append(opts.Overrides, ov)
	}
	for _, b := range binaries {
		pl, p, ok := strings.Cut(b, "=")
		if !ok {
			fmt.Fprintf(stderr, "airgap-kit pack: -binary %q is not PLATFORM=PATH\n", b)
			return 2
		}
		opts.Binaries[pl] = p
	}
	opts.Archive.Zstd = *zstd
	if *split != "" {
		n, err := parseSize(*split)
		if err != nil {
			fmt.Fprintf(stderr, "airgap-kit pack: -split-size: %v\n", err)
			return 2
		}
		opts.Archive.PartSize = n
	}
	opts.Progress = c.reporter(stderr)
	res, err := pack.Pack(ctx, opts)
	if err != nil {
		return fail(stderr, "pack", err)
	}
	pinFile := *out + ".sha256sums-hash"
	if err := os.WriteFile(pinFile, []byte(res.SHA256SumsHash+"\n"), 0o644); err != nil {
		return fail(stderr, "pack", err)
	}
	if c.json {
		writeJSON(stdout, map[string]any{"event": "result", "sha256sumsHash": res.SHA256SumsHash, "parts": res.Paths, "bytes": res.Bytes, "images": len(res.Manifest.Images), "providers": len(res.Manifest.Providers), "stacks": len(res.Manifest.Stacks)})
	} else {
		fmt.Fprintln(stdout, res.SHA256SumsHash)
		fmt.Fprintf(stderr, "pack: wrote %s (%s). The pin, the sha256 of its SHA256SUMS (also in %s), is on stdout: record it where the far side can trust it, and carry the archive and the public key.\n", strings.Join(res.Paths, ", "), progress.Bytes(res.Bytes), pinFile)
	}
	return 0
}

func verifyFlags(fs *flag.FlagSet) *pack.VerifyOptions {
	o := &pack.VerifyOptions{}
	fs.StringVar(&o.Archive, "archive", "", "the archive (or its first part, ARCHIVE.000) (required)")
	fs.StringVar(&o.PublicKey, "public-key", "", "the trusted public key, as key.pub or an allowed_signers line (required)")
	fs.StringVar(&o.SHA256SumsHash, "sha256sums-hash", "", "the pin: the sha256 of the archive's SHA256SUMS, as pack printed it (required, or -sha256sums-hash-file)")
	return o
}

func pinFrom(o *pack.VerifyOptions, file string) error {
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		o.SHA256SumsHash = strings.Fields(string(data) + " ")[0]
	}
	if o.Archive == "" || o.PublicKey == "" || o.SHA256SumsHash == "" {
		return fmt.Errorf("-archive, -public-key and -sha256sums-hash (or -sha256sums-hash-file) are required")
	}
	return nil
}

func runVerify(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("verify", "-archive ARCHIVE -public-key KEY.pub -sha256sums-hash HEX\n       airgap-kit verify -stack DIR -sha256sums-hash HEX [-initialised]", stderr)
	var c common
	c.register(fs)
	o := verifyFlags(fs)
	pinFile := fs.String("sha256sums-hash-file", "", "read the pin from this file instead (ARCHIVE.sha256sums-hash)")
	stack := fs.String("stack", "", "check a laid-out stack directory instead, by the rules of its offline/verify.sh, against the sha256 of its SHA256SUMS")
	initialised := fs.Bool("initialised", false, "with -stack: allow Terraform's own files (tofu init already ran there)")
	if code, ok := parse(fs, args, stdout); !ok {
		return code
	}
	if *stack != "" {
		if *pinFile != "" {
			data, err := os.ReadFile(*pinFile)
			if err != nil {
				return fail(stderr, "verify", err)
			}
			o.SHA256SumsHash = strings.Fields(string(data) + " ")[0]
		}
		if o.SHA256SumsHash == "" {
			fmt.Fprintln(stderr, "airgap-kit verify: -stack needs -sha256sums-hash (the sha256 of the stack's SHA256SUMS)")
			return 2
		}
		n, err := pack.VerifyStack(pack.StackVerifyOptions{Dir: *stack, SHA256SumsHash: o.SHA256SumsHash, Initialised: *initialised})
		if err != nil {
			return fail(stderr, "verify", err)
		}
		fmt.Fprintf(stdout, "OK: %s: %d files match SHA256SUMS, whose sha256 is the pin, and nothing else is there\n", *stack, n)
		return 0
	}
	if err := pinFrom(o, *pinFile); err != nil {
		fmt.Fprintf(stderr, "airgap-kit verify: %v\n", err)
		fs.Usage()
		return 2
	}
	o.Progress = c.reporter(stderr)
	v, err := pack.Verify(ctx, *o)
	if err != nil {
		return fail(stderr, "verify", err)
	}
	if c.json {
		writeJSON(stdout, map[string]any{"event": "result", "ok": true, "files": v.Sums.Len(), "signer": v.Signer, "images": len(v.Manifest.Images)})
	} else {
		fmt.Fprintf(stdout, "OK: %s: signed by %s, SHA256SUMS matches the pin, %d files match it, nothing else inside\n", strings.Join(v.Parts, ", "), v.Signer, v.Sums.Len())
	}
	return 0
}

func runPush(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("push", "-archive ARCHIVE -public-key KEY.pub -sha256sums-hash HEX -out DIR [-plain-http HOST]", stderr)
	var c common
	c.register(fs)
	o := verifyFlags(fs)
	pinFile := fs.String("sha256sums-hash-file", "", "read the pin from this file instead (ARCHIVE.sha256sums-hash)")
	out := fs.String("out", "", "folder to lay the stacks (DIR/stacks) and providers (DIR/providers) out in (required)")
	var plain multi
	fs.Var(&plain, "plain-http", "registry host to push to over plain HTTP (repeatable); credentials come from the docker config")
	if code, ok := parse(fs, args, stdout); !ok {
		return code
	}
	if err := pinFrom(o, *pinFile); err != nil || *out == "" {
		if err == nil {
			err = fmt.Errorf("-out is required")
		}
		fmt.Fprintf(stderr, "airgap-kit push: %v\n", err)
		fs.Usage()
		return 2
	}
	o.Progress = c.reporter(stderr)
	res, err := pack.Push(ctx, pack.PushOptions{VerifyOptions: *o, Out: *out, PlainHTTP: plain})
	if err != nil {
		return fail(stderr, "push", err)
	}
	if c.json {
		writeJSON(stdout, map[string]any{"event": "result", "ok": true, "blobsPushed": res.BlobsPushed, "blobsPresent": res.BlobsPresent, "manifests": res.ManifestsDone, "bytes": res.Bytes, "out": *out, "steps": res.Steps})
	} else {
		fmt.Fprint(stdout, res.Steps)
	}
	return 0
}

func runBuilt(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("built-images", "[-cdktf-out DIR] [-stack NAME]... [-plain-http HOST]... [-o FILE]", stderr)
	cdktfOut := fs.String("cdktf-out", "cdktf.out", "the synthesized app")
	outFile := fs.String("o", "", "write the JSON here instead of stdout")
	var stacks, plain multi
	fs.Var(&stacks, "stack", "stack whose built images to resolve (repeatable; default: every stack)")
	fs.Var(&plain, "plain-http", "registry host to read over plain HTTP (repeatable)")
	if code, ok := parse(fs, args, stdout); !ok {
		return code
	}
	built, err := pack.ResolveBuilt(ctx, *cdktfOut, stacks, plain)
	if err != nil {
		return fail(stderr, "built-images", err)
	}
	data, _ := json.MarshalIndent(built, "", "  ")
	data = append(data, '\n')
	if *outFile != "" {
		if err := os.WriteFile(*outFile, data, 0o644); err != nil {
			return fail(stderr, "built-images", err)
		}
		fmt.Fprintf(stderr, "built-images: %d images in %s; synthesize again with AIRGAP_BUILT_IMAGES=%s (or the context key airgap-go-constructs:builtImages)\n", len(built.Images), *outFile, *outFile)
		return 0
	}
	stdout.Write(data)
	return 0
}

func runBuildImage(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("build-image", "-spec FILE -tag TAG [-log FILE] [-result FILE]", stderr)
	specFile := fs.String("spec", "", "the airgap-build.json GoImage staged in the module (required)")
	tag := fs.String("tag", "", "the tag to push the image or index under (required)")
	logFile := fs.String("log", "", "keep go's whole output here (default: airgap-kit/<binary>.log under the temporary folder)")
	resultFile := fs.String("result", "", "also write the result (digests, sizes, compiled packages) here as JSON")
	if code, ok := parse(fs, args, stdout); !ok {
		return code
	}
	if *specFile == "" || *tag == "" {
		fmt.Fprintln(stderr, "airgap-kit build-image: -spec and -tag are required")
		return 2
	}
	spec, err := build.ReadSpec(*specFile)
	if err != nil {
		return fail(stderr, "build-image", err)
	}
	spec.Target = spec.Repository + ":" + *tag
	if *logFile == "" {
		*logFile = filepath.Join(os.TempDir(), "airgap-kit", strings.NewReplacer("/", "_", ":", "_").Replace(spec.Target)+".log")
	}
	res, err := build.Build(ctx, spec, build.Options{Log: stderr, LogFile: *logFile})
	if err != nil {
		return fail(stderr, "build-image", err)
	}
	data, _ := json.MarshalIndent(res, "", "  ")
	data = append(data, '\n')
	if *resultFile != "" {
		if err := os.WriteFile(*resultFile, data, 0o644); err != nil {
			return fail(stderr, "build-image", err)
		}
	}
	stdout.Write(data)
	return 0
}

func runSBOM(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("sbom", "-image REPO@DIGEST -binary PATH -module DIR -base REF [-created EPOCH] [-plain-http HOST]...", stderr)
	image := fs.String("image", "", "the pushed image, pinned by digest (required)")
	binary := fs.String("binary", "", "the Go binary's absolute path in the image (required)")
	module := fs.String("module", "", "the module folder, for go.sum (required)")
	base := fs.String("base", "", "the runtime base the image was built on, pinned")
	created := fs.Int64("created", 0, "SOURCE_DATE_EPOCH: the document's creation time")
	var plain multi
	fs.Var(&plain, "plain-http", "registry host spoken to over plain HTTP (repeatable)")
	if code, ok := parse(fs, args, stdout); !ok {
		return code
	}
	if *image == "" || *binary == "" || *module == "" {
		fmt.Fprintln(stderr, "airgap-kit sbom: -image, -binary and -module are required")
		return 2
	}
	d, err := build.AttachToPushed(ctx, build.AttachOptions{Image: *image, BinaryPath: *binary, ModuleDir: *module, Base: *base, Created: *created, PlainHTTP: plain})
	if err != nil {
		return fail(stderr, "sbom", err)
	}
	fmt.Fprintf(stderr, "sbom %s attached to %s\n", d, *image)
	fmt.Fprintln(stdout, d)
	return 0
}

func writeJSON(w io.Writer, v any) {
	b, _ := json.Marshal(v)
	fmt.Fprintf(w, "%s\n", b)
}

// parseSize reads 700M, 2G, 1048576 (binary units).
func parseSize(s string) (int64, error) {
	mult := int64(1)
	switch {
	case strings.HasSuffix(s, "K"):
		mult, s = 1<<10, strings.TrimSuffix(s, "K")
	case strings.HasSuffix(s, "M"):
		mult, s = 1<<20, strings.TrimSuffix(s, "M")
	case strings.HasSuffix(s, "G"):
		mult, s = 1<<30, strings.TrimSuffix(s, "G")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a size such as 700M or 2G", s)
	}
	return n * mult, nil
}
