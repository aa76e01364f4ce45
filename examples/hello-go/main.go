// Command hello-go is the example service of airgap-go-constructs: a small
// HTTP server with liveness and readiness endpoints, a greeting in the
// language the client asks for, one JSON log line per request and a graceful
// shutdown. It is made for a distroless, non-root container with a read-only
// root filesystem: it writes nothing to disk and needs no shell, since
// `hello-go -healthcheck` is its own health probe.
package main

import (
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
	"strconv"
	"syscall"
	"time"
)

// version is the service version, set at build time with
// -ldflags "-X main.version=1.2.3".
var version = "dev"

// healthcheckTimeout bounds the whole request of `hello-go -healthcheck`.
const healthcheckTimeout = 3 * time.Second

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	go func() {
		// After the first signal, give the signals back to the runtime, so a
		// second one ends the process at once instead of waiting for the drain.
		<-ctx.Done()
		stop()
	}()
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err))
}

// run is the whole program: it parses args and the environment, then either
// probes a running server (healthcheck mode) or serves until ctx is done and
// shuts down gracefully. Every error it returns has already been reported,
// on stderr before the logger exists and in the log after.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	if cfg.healthcheck {
		return healthcheck(ctx, cfg.addr, stderr)
	}

	logger := newLogger(stdout, cfg.logFormat, cfg.logLevel)
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		logger.Error("listen failed", slog.String("addr", cfg.addr), slog.Any("error", err))
		return err
	}
	svc := &service{logger: logger, metrics: newMetrics(time.Now())}
	srv := newHTTPServer(svc.handler(), logger)
	logger.Info("listening",
		slog.String("addr", ln.Addr().String()),
		slog.String("version", version),
		slog.String("go_version", runtime.Version()),
		slog.String("drain_delay", cfg.drainDelay.String()),
		slog.String("shutdown_timeout", cfg.shutdownTimeout.String()),
	)
	if err := serve(ctx, logger, srv, ln, &svc.ready, cfg.drainDelay, cfg.shutdownTimeout); err != nil {
		logger.Error("server stopped with an error", slog.Any("error", err))
		return err
	}
	return nil
}

// exitCode maps run's result to the process exit status: 0 for success and
// -h, 2 for bad flags or environment, 1 for anything else.
func exitCode(err error) int {
	var usage usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &usage):
		return 2
	default:
		return 1
	}
}

// config is what the flags and the environment select.
type config struct {
	addr            string
	drainDelay      time.Duration
	shutdownTimeout time.Duration
	logLevel        slog.Level
	logFormat       string
	healthcheck     bool
}

// usageError is a bad flag, argument or environment variable.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// parseConfig reads the flags, which win, and the environment variables,
// which set the flags' defaults. Errors are reported on stderr.
func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	fail := func(err error) (config, error) {
		fmt.Fprintf(stderr, "hello-go: %v\n", err)
		return config{}, usageError{err}
	}

	defaults := config{addr: ":8080", drainDelay: 5 * time.Second, shutdownTimeout: 10 * time.Second, logFormat: "json"}
	if v := getenv("PORT"); v != "" {
		port, err := strconv.ParseUint(v, 10, 16)
		if err != nil || port == 0 {
			return fail(fmt.Errorf("PORT=%q: want a port number from 1 to 65535", v))
		}
		defaults.addr = ":" + v
	}
	for _, d := range []struct {
		env string
		dst *time.Duration
	}{{"DRAIN_DELAY", &defaults.drainDelay}, {"SHUTDOWN_TIMEOUT", &defaults.shutdownTimeout}} {
		if v := getenv(d.env); v != "" {
			dur, err := time.ParseDuration(v)
			if err != nil {
				return fail(fmt.Errorf("%s=%q: want a duration such as 5s", d.env, v))
			}
			*d.dst = dur
		}
	}
	if v := getenv("LOG_LEVEL"); v != "" {
		if err := defaults.logLevel.UnmarshalText([]byte(v)); err != nil {
			return fail(fmt.Errorf("LOG_LEVEL=%q: want debug, info, warn or error", v))
		}
	}
	if v := getenv("LOG_FORMAT"); v != "" {
		defaults.logFormat = v
	}

	var cfg config
	fs := flag.NewFlagSet("hello-go", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage:\n  hello-go [flags]               serve HTTP\n  hello-go -healthcheck [flags]  GET /healthz of the server at -addr, exit 0 if it answers 200\n\nFlags:\n")
		fs.PrintDefaults()
	}
	fs.StringVar(&cfg.addr, "addr", defaults.addr, "`host:port` to listen on (env PORT sets the port of the default)")
	fs.DurationVar(&cfg.drainDelay, "drain-delay", defaults.drainDelay, "time between the shutdown signal and closing the listener, while /readyz answers 503 (env DRAIN_DELAY)")
	fs.DurationVar(&cfg.shutdownTimeout, "shutdown-timeout", defaults.shutdownTimeout, "time in-flight requests get to finish after the drain delay (env SHUTDOWN_TIMEOUT)")
	fs.TextVar(&cfg.logLevel, "log-level", defaults.logLevel, "minimum log `level`: debug, info, warn or error (env LOG_LEVEL)")
	fs.StringVar(&cfg.logFormat, "log-format", defaults.logFormat, "log `format`: json or text (env LOG_FORMAT)")
	fs.BoolVar(&cfg.healthcheck, "healthcheck", false, "probe the server at -addr instead of serving (also: first argument \"healthcheck\")")
	if err := fs.Parse(args); err != nil {
		return config{}, usageError{err} // the flag package has reported it
	}
	// `hello-go healthcheck [flags]` is the same as `hello-go -healthcheck [flags]`.
	if fs.NArg() > 0 && fs.Arg(0) == "healthcheck" {
		cfg.healthcheck = true
		if err := fs.Parse(fs.Args()[1:]); err != nil {
			return config{}, usageError{err}
		}
	}
	if fs.NArg() > 0 {
		return fail(fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	}

	if _, port, err := net.SplitHostPort(cfg.addr); err != nil {
		return fail(fmt.Errorf("-addr %q: %v", cfg.addr, err))
	} else if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fail(fmt.Errorf("-addr %q: want a numeric port", cfg.addr))
	}
	if cfg.drainDelay < 0 {
		return fail(fmt.Errorf("drain delay %s is negative", cfg.drainDelay))
	}
	if cfg.shutdownTimeout <= 0 {
		return fail(fmt.Errorf("shutdown timeout %s is not positive", cfg.shutdownTimeout))
	}
	if cfg.logFormat != "json" && cfg.logFormat != "text" {
		return fail(fmt.Errorf("log format %q: want json or text", cfg.logFormat))
	}
	return cfg, nil
}

// healthcheckURL is the /healthz URL of a server listening on addr. An
// unspecified host (":8080", "0.0.0.0:8080", "[::]:8080") is probed on loopback.
func healthcheckURL(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", err
	}
	if port == "0" {
		return "", fmt.Errorf("cannot probe %q: port 0 is picked by the kernel", addr)
	}
	if ip := net.ParseIP(host); host == "" || ip.IsUnspecified() {
		host = "127.0.0.1"
		if ip != nil && ip.To4() == nil {
			host = "::1"
		}
	}
	u := url.URL{Scheme: "http", Host: net.JoinHostPort(host, port), Path: "/healthz"}
	return u.String(), nil
}

// healthcheck GETs /healthz of the server listening on addr and fails unless
// it answers 200 within healthcheckTimeout. It is for container runtimes
// whose health checks run a command, in an image that has no curl or shell.
func healthcheck(ctx context.Context, addr string, stderr io.Writer) error {
	err := probe(ctx, addr)
	if err != nil {
		fmt.Fprintf(stderr, "hello-go: healthcheck: %v\n", err)
	}
	return err
}

func probe(ctx context.Context, addr string) error {
	target, err := healthcheckURL(addr)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, healthcheckTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", "hello-go-healthcheck/"+version)
	client := &http.Client{
		// A transport of its own: no proxy from the environment, no keep-alive.
		Transport:     &http.Transport{DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", target, resp.Status)
	}
	return nil
}
