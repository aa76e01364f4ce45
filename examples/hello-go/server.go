package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// service holds the handlers' state.
type service struct {
	logger *slog.Logger
	// ready is what /readyz reports: true from the moment the listener is
	// open until the shutdown signal.
	ready atomic.Bool
	// metrics counts requests for /metrics; nil serves no /metrics.
	metrics *metrics
}

// handler routes the endpoints and logs every request.
func (s *service) handler() http.Handler {
	mux := http.NewServeMux()
	// A GET pattern also matches HEAD; other methods get 405 with Allow.
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.HandleFunc("GET /hello", hello)
	mux.HandleFunc("GET /{$}", hello)
	if s.metrics != nil {
		mux.Handle("GET /metrics", s.metrics)
	}
	return logRequests(s.logger, s.metrics, mux)
}

// healthz is the liveness endpoint: 200 for as long as the process can
// answer, during the shutdown too, so that the kubelet does not restart a
// container that is draining.
func (s *service) healthz(w http.ResponseWriter, _ *http.Request) {
	writeProbe(w, http.StatusOK, "ok")
}

// readyz is the readiness endpoint: 200 while serving, 503 from the moment
// the shutdown signal arrives, so load balancers stop sending new requests.
func (s *service) readyz(w http.ResponseWriter, _ *http.Request) {
	if s.ready.Load() {
		writeProbe(w, http.StatusOK, "ok")
		return
	}
	writeProbe(w, http.StatusServiceUnavailable, "not ready")
}

func writeProbe(w http.ResponseWriter, status int, body string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = fmt.Fprintln(w, body)
}

// newHTTPServer is an http.Server with timeouts, so that slow or idle
// clients cannot hold connections forever, and with its own error log
// going to the structured logger.
func newHTTPServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      15 * time.Second,
		// Longer than the upstream keep-alive of the usual ingress proxies
		// (60s in ingress-nginx), so the proxy closes idle connections rather
		// than racing this server and answering 502.
		IdleTimeout:    120 * time.Second,
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       slog.NewLogLogger(logger.Handler(), slog.LevelError),
	}
}

// serve runs srv on ln until ctx is done, then shuts down gracefully:
//
//  1. ready turns false at once, so /readyz answers 503, and keep-alive ends;
//  2. it keeps serving for drainDelay, while load balancers notice and
//     take the instance out of rotation;
//  3. it closes the listener and gives in-flight requests shutdownTimeout to
//     finish, then closes whatever is left and reports an error.
//
// It returns nil after a clean shutdown.
func serve(ctx context.Context, logger *slog.Logger, srv *http.Server, ln net.Listener, ready *atomic.Bool, drainDelay, shutdownTimeout time.Duration) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	ready.Store(true)

	select {
	case err := <-errc:
		ready.Store(false)
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}

	ready.Store(false)
	srv.SetKeepAlivesEnabled(false)
	logger.Info("shutting down",
		slog.String("cause", context.Cause(ctx).Error()),
		slog.String("drain_delay", drainDelay.String()),
		slog.String("shutdown_timeout", shutdownTimeout.String()),
	)
	if drainDelay > 0 {
		select {
		case <-time.After(drainDelay):
		case err := <-errc:
			return fmt.Errorf("serve: %w", err)
		}
	}

	start := time.Now()
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		_ = srv.Close()
		return fmt.Errorf("in-flight requests did not finish within the shutdown timeout of %s, closed them: %w", shutdownTimeout, err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	logger.Info("stopped", slog.Float64("shutdown_ms", milliseconds(time.Since(start))))
	return nil
}
