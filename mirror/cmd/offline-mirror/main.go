// Command offline-mirror serves an offline bundle (made by offline-bundle)
// as a Go module proxy, checksum database proxy and file server inside an
// air-gapped network. It verifies the whole bundle against the pinned hash
// of its SHA256SUMS before serving anything, writes nothing to disk, and is
// its own container health check (-healthcheck), since the image has no
// shell or curl.
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/airgap-go-constructs/mirror/internal/server"
	"github.com/airgap-go-constructs/mirror/internal/verify"
)

// version is set at release time with -ldflags "-X main.version=...".
var version = ""

const shutdownTimeout = 25 * time.Second // under Kubernetes' default 30 s grace period

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("offline-mirror", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: offline-mirror -bundle DIR -sha256sums-hash HEX [-listen ADDR]\n       offline-mirror -install SRC -to DST -sha256sums-hash HEX\n       offline-mirror -install-self DST\n       offline-mirror -healthcheck URL-or-ADDR\n       offline-mirror -version\n\nA flag wins over its environment variable.")
		fs.PrintDefaults()
	}
	bundle := fs.String("bundle", getenv("MIRROR_BUNDLE"), "bundle directory (env MIRROR_BUNDLE)")
	listen := fs.String("listen", cmp.Or(getenv("MIRROR_LISTEN"), "127.0.0.1:8686"), "address to listen on (env MIRROR_LISTEN)")
	pinned := fs.String("sha256sums-hash", getenv("MIRROR_SHA256SUMS_HASH"), "required: sha256 of the bundle's SHA256SUMS, as printed by offline-bundle (env MIRROR_SHA256SUMS_HASH)")
	health := fs.String("healthcheck", "", "GET `URL-or-ADDR` (/readyz unless a path is given), exit 0 if 200, else 1; for exec probes")
	showVersion := fs.Bool("version", false, "print the version and exit")
	installFrom := fs.String("install", "", "verify the bundle in `SRC` and copy it to -to, then exit (an init container's job)")
	installTo := fs.String("to", "", "destination `DIR` of -install")
	installSelfTo := fs.String("install-self", "", "copy this executable to `PATH` and exit (for a FROM scratch bundle image)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "offline-mirror: unexpected arguments: %q\n", fs.Args())
		return 2
	}
	switch {
	case *showVersion:
		fmt.Fprintln(stdout, "offline-mirror", versionString(), runtime.Version())
		return 0
	case *health != "":
		return healthcheck(*health, stderr)
	case *installSelfTo != "":
		return installSelf(*installSelfTo, slog.New(slog.NewJSONHandler(stderr, nil)))
	}
	if *pinned == "" {
		fmt.Fprintln(stderr, "offline-mirror: refusing to start without -sha256sums-hash (or MIRROR_SHA256SUMS_HASH): the sha256 of the bundle's SHA256SUMS that offline-bundle printed; it is what makes the bundle trusted")
		return 2
	}
	hash, err := verify.ParsePinned(*pinned)
	if err != nil {
		fmt.Fprintf(stderr, "offline-mirror: -sha256sums-hash: %v\n", err)
		return 2
	}
	logger := slog.New(slog.NewJSONHandler(stderr, nil))
	if *installFrom != "" || *installTo != "" {
		if *installFrom == "" || *installTo == "" {
			fmt.Fprintln(stderr, "offline-mirror: -install SRC needs -to DST, and the other way round")
			return 2
		}
		return install(context.Background(), *installFrom, *installTo, hash, logger)
	}
	if *bundle == "" {
		fmt.Fprintln(stderr, "offline-mirror: -bundle (or MIRROR_BUNDLE) is required")
		return 2
	}

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		logger.Error("cannot listen", "listen", *listen, "error", err.Error())
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := serve(ctx, logger, server.Config{Bundle: *bundle, Pinned: hash, Logger: logger}, ln); err != nil {
		logger.Error("server stopped", "error", err.Error())
		return 1
	}
	return 0
}

// serve listens before verifying, so that /healthz and /metrics answer (and
// /readyz says 503) during a long verification, and returns nil after a
// graceful shutdown once ctx is done.
func serve(ctx context.Context, logger *slog.Logger, cfg server.Config, ln net.Listener) error {
	s := server.New(cfg)
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	logger.Info("listening", "addr", ln.Addr().String(), "version", versionString())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	go s.Verify(ctx)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	logger.Info("stopped")
	return nil
}

// healthcheckURL accepts what is easiest to write in a probe: a bare
// host:port (or :port), or a full URL.
func healthcheckURL(target string) (string, error) {
	if !strings.Contains(target, "://") {
		target = "http://" + target
	}
	u, err := url.Parse(target)
	if err != nil {
		return "", err
	}
	if u.Host == "" {
		return "", fmt.Errorf("no host in %q", target)
	}
	if strings.HasPrefix(u.Host, ":") {
		u.Host = "127.0.0.1" + u.Host
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/readyz"
	}
	return u.String(), nil
}

func healthcheck(target string, stderr io.Writer) int {
	u, err := healthcheckURL(target)
	if err != nil {
		fmt.Fprintf(stderr, "offline-mirror: -healthcheck: %v\n", err)
		return 2
	}
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(u)
	if err != nil {
		fmt.Fprintf(stderr, "offline-mirror: healthcheck: %v\n", err)
		return 1
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "offline-mirror: healthcheck: %s: %s: %s\n", u, resp.Status, strings.TrimSpace(string(body)))
		return 1
	}
	return 0
}

func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}
