// Command offline-bundle makes, on the connected side, the bundle that
// offline-mirror serves inside the air gap, and checks one (-verify) on the
// air-gapped side before it is loaded. See the module's README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/airgap-go-constructs/mirror/internal/bundle"
	"github.com/airgap-go-constructs/mirror/internal/verify"
)

var version = "" // -ldflags "-X main.version=..."

type toolchains []bundle.Toolchain

func (t *toolchains) String() string { return fmt.Sprint(*t) }

func (t *toolchains) Set(s string) error {
	tc, err := bundle.ParseToolchain(s)
	if err != nil {
		return err
	}
	*t = append(*t, tc)
	return nil
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("offline-bundle", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `usage: offline-bundle -out DIR [-toolchain PATH[=NAME]]... MODULE_DIR...
       offline-bundle -verify DIR -sha256sums-hash HEX

Bundles the module graph ("go mod download all") of each MODULE_DIR, with
the checksum database data for it, as an offline Go module proxy tree.
go runs with your GOPROXY, GOSUMDB, GONOSUMDB, GOPRIVATE, GOFLAGS, ... but a
fresh temporary GOPATH. Prints the sha256 of the bundle's SHA256SUMS on
stdout (and writes it to DIR.sha256sums-hash): pin it in offline-mirror.

`)
		fs.PrintDefaults()
	}
	var tcs toolchains
	out := fs.String("out", "", "bundle directory to create (must not exist or be empty)")
	fs.Var(&tcs, "toolchain", "add the file at `PATH[=NAME]` as files/NAME (NAME defaults to its base name); repeatable")
	goBin := fs.String("go", "go", "go command to run")
	verifyDir := fs.String("verify", "", "verify the bundle in `DIR` instead of making one")
	pinned := fs.String("sha256sums-hash", getenv("MIRROR_SHA256SUMS_HASH"), "with -verify: the pinned sha256 of SHA256SUMS (env MIRROR_SHA256SUMS_HASH)")
	showVersion := fs.Bool("version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	usage := func(msg string) int {
		fmt.Fprintf(stderr, "offline-bundle: %s (see -h)\n", msg)
		return 2
	}
	switch {
	case *showVersion:
		v := version
		if bi, ok := debug.ReadBuildInfo(); v == "" && ok {
			v = bi.Main.Version
		}
		fmt.Fprintln(stdout, "offline-bundle", v, runtime.Version())
		return 0
	case *verifyDir != "":
		if *out != "" || len(tcs) > 0 || fs.NArg() > 0 {
			return usage("-verify takes no -out, -toolchain or module directories")
		}
		if *pinned == "" {
			return usage("-verify needs -sha256sums-hash (or MIRROR_SHA256SUMS_HASH)")
		}
		hash, err := verify.ParsePinned(*pinned)
		if err != nil {
			return usage("-sha256sums-hash: " + err.Error())
		}
		return runVerify(ctx, *verifyDir, hash, stdout, stderr)
	case *out == "":
		return usage("-out is required")
	case fs.NArg() == 0 && len(tcs) == 0:
		return usage("give at least one module directory or -toolchain")
	}

	hash, err := bundle.Build(ctx, bundle.Options{
		Out: *out, ModuleDirs: fs.Args(), Toolchains: tcs, Go: *goBin, Log: stderr,
	})
	if err != nil {
		fmt.Fprintf(stderr, "offline-bundle: %v\n", err)
		return 1
	}
	fmt.Fprintf(stderr, "offline-bundle: sha256 of %s/SHA256SUMS (pin it: offline-mirror -sha256sums-hash):\n", strings.TrimSuffix(*out, "/"))
	fmt.Fprintln(stdout, hash)
	return 0
}

func runVerify(ctx context.Context, dir, hash string, stdout, stderr io.Writer) int {
	res, err := verify.Verify(ctx, dir, hash, 0)
	if err != nil {
		fmt.Fprintf(stderr, "offline-bundle: %v\n", err)
		return 1
	}
	if !res.OK() {
		for _, p := range res.Problems {
			fmt.Fprintf(stderr, "offline-bundle: BAD %s\n", p)
		}
		fmt.Fprintf(stderr, "offline-bundle: %s: verification FAILED: %d problem(s)\n", dir, len(res.Problems))
		return 1
	}
	secs := max(res.Elapsed.Seconds(), 1e-9)
	fmt.Fprintf(stdout, "offline-bundle: %s: OK: %d files, %d bytes verified in %.3fs (%.0f MiB/s)\n",
		dir, res.Listed, res.Bytes, secs, float64(res.Bytes)/(1<<20)/secs)
	return 0
}
