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
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/airgap-go-constructs/mirror/internal/server"
	"github.com/airgap-go-constructs/mirror/internal/verify"
)

// version is set at release time with -ldflags "-X main.version=...".
var version = ""

// Defaults of the limits, each a flag (and an environment variable).
const (
	defaultShutdownTimeout = 25 * time.Second // under Kubernetes' default 30 s grace period
	defaultMaxConnections  = 512
	defaultIdleTimeout     = 30 * time.Second
	defaultHeaderTimeout   = 10 * time.Second
	defaultMaxHeaderBytes  = 16 << 10
	defaultLogQueue        = 4096
)

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
	var lim limits
	fs.IntVar(&lim.maxConns, "max-connections", envInt(getenv, "MIRROR_MAX_CONNECTIONS", defaultMaxConnections), "most client connections open at once; more wait in the kernel's backlog (env MIRROR_MAX_CONNECTIONS)")
	fs.DurationVar(&lim.writeTimeout, "write-timeout", envDuration(getenv, "MIRROR_WRITE_TIMEOUT", server.DefaultWriteTimeout), "longest one write to a client may take: a stalled reader is dropped (env MIRROR_WRITE_TIMEOUT)")
	fs.DurationVar(&lim.idleTimeout, "idle-timeout", envDuration(getenv, "MIRROR_IDLE_TIMEOUT", defaultIdleTimeout), "how long an idle keep-alive connection is kept (env MIRROR_IDLE_TIMEOUT)")
	fs.DurationVar(&lim.headerTimeout, "read-header-timeout", envDuration(getenv, "MIRROR_READ_HEADER_TIMEOUT", defaultHeaderTimeout), "how long a client may take to send its request headers (env MIRROR_READ_HEADER_TIMEOUT)")
	fs.IntVar(&lim.maxHeaderBytes, "max-header-bytes", envInt(getenv, "MIRROR_MAX_HEADER_BYTES", defaultMaxHeaderBytes), "largest request header block (env MIRROR_MAX_HEADER_BYTES)")
	fs.DurationVar(&lim.shutdownTimeout, "shutdown-timeout", envDuration(getenv, "MIRROR_SHUTDOWN_TIMEOUT", defaultShutdownTimeout), "on SIGTERM, how long to let requests finish before closing what is left (env MIRROR_SHUTDOWN_TIMEOUT)")
	fs.DurationVar(&lim.wedgeAfter, "wedge-after", envDuration(getenv, "MIRROR_WEDGE_AFTER", server.DefaultWedgeAfter), "/healthz fails after transient errors (too many open files) with nothing served for this long (env MIRROR_WEDGE_AFTER)")
	fs.Int64Var(&lim.smallFileMax, "small-file-max", int64(envInt(getenv, "MIRROR_SMALL_FILE_MAX", server.DefaultSmallFileMax)), "files up to this size are served from their verified bytes in memory; larger ones are re-hashed as they stream; -1 keeps none (env MIRROR_SMALL_FILE_MAX)")
	fs.Int64Var(&lim.smallBudget, "small-cache-budget", int64(envInt(getenv, "MIRROR_SMALL_CACHE_BUDGET", server.DefaultSmallCacheBudget)), "memory those small files may take, in bytes (env MIRROR_SMALL_CACHE_BUDGET)")
	fs.IntVar(&lim.logQueue, "log-queue", envInt(getenv, "MIRROR_LOG_QUEUE", defaultLogQueue), "request log lines that may wait to be written; beyond it lines are dropped and counted (env MIRROR_LOG_QUEUE)")
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
	access := server.NewAccessLog(stderr, lim.logQueue)
	defer access.Close()
	cfg := server.Config{
		Bundle: *bundle, Pinned: hash, Logger: logger, AccessLog: access,
		SmallFileMax: lim.smallFileMax, SmallCacheBudget: lim.smallBudget, WriteTimeout: lim.writeTimeout, WedgeAfter: lim.wedgeAfter,
	}
	if err := serve(ctx, logger, cfg, ln, lim); err != nil {
		logger.Error("server stopped", "error", err.Error())
		return 1
	}
	return 0
}

// limits bounds what clients can hold: connections, slow and idle ones,
// header sizes, and the shutdown.
type limits struct {
	maxConns, maxHeaderBytes, logQueue       int
	writeTimeout, idleTimeout, headerTimeout time.Duration
	shutdownTimeout, wedgeAfter              time.Duration
	smallFileMax, smallBudget                int64
}

// serve listens before verifying, so that /healthz and /metrics answer (and
// /readyz says 503) during a long verification, and returns nil after a
// graceful shutdown once ctx is done: requests get shutdownTimeout to
// finish, then whatever is left is closed, and that is still a clean exit.
func serve(ctx context.Context, logger *slog.Logger, cfg server.Config, ln net.Listener, lim limits) error {
	s := server.New(cfg)
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: lim.headerTimeout,
		IdleTimeout:       lim.idleTimeout,
		MaxHeaderBytes:    lim.maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	logger.Info("listening", "addr", ln.Addr().String(), "version", versionString(), "max_connections", lim.maxConns,
		"write_timeout", lim.writeTimeout.String(), "idle_timeout", lim.idleTimeout.String())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(s.Limit(ln, lim.maxConns)) }()
	go s.Verify(ctx)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down", "timeout", lim.shutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), lim.shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		if !errors.Is(err, context.DeadlineExceeded) {
			return err
		}
		// Stragglers (a stalled client) had their time: close them, and stop cleanly.
		srv.Close()
		logger.Warn("closed connections still open at the shutdown deadline")
	}
	logger.Info("stopped")
	return nil
}

func envInt(getenv func(string) string, key string, def int) int {
	if v, err := strconv.Atoi(getenv(key)); err == nil {
		return v
	}
	return def
}

func envDuration(getenv func(string) string, key string, def time.Duration) time.Duration {
	if v, err := time.ParseDuration(getenv(key)); err == nil {
		return v
	}
	return def
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
