package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestProbes(t *testing.T) {
	svc := &service{logger: slog.New(slog.DiscardHandler)}
	h := svc.handler()
	get := func(method, path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
		return rec
	}

	tests := []struct {
		ready      bool
		method     string
		path       string
		wantStatus int
		wantBody   string
	}{
		{false, "GET", "/healthz", 200, "ok\n"},
		{false, "GET", "/readyz", 503, "not ready\n"}, // before the listener is open
		{true, "GET", "/healthz", 200, "ok\n"},
		{true, "HEAD", "/healthz", 200, ""},
		{true, "GET", "/readyz", 200, "ok\n"},
		{true, "HEAD", "/readyz", 200, ""},
		{true, "POST", "/readyz", 405, ""},
		{false, "GET", "/readyz", 503, "not ready\n"}, // after the shutdown signal
		{false, "GET", "/healthz", 200, "ok\n"},       // still alive while draining
	}
	for _, tt := range tests {
		svc.ready.Store(tt.ready)
		rec := get(tt.method, tt.path)
		if rec.Code != tt.wantStatus {
			t.Errorf("ready=%v %s %s: status %d, want %d", tt.ready, tt.method, tt.path, rec.Code, tt.wantStatus)
		}
		if tt.wantBody != "" && rec.Body.String() != tt.wantBody {
			t.Errorf("ready=%v %s %s: body %q, want %q", tt.ready, tt.method, tt.path, rec.Body, tt.wantBody)
		}
		if tt.wantStatus != 405 && rec.Header().Get("Cache-Control") != "no-store" {
			t.Errorf("ready=%v %s %s: Cache-Control %q, want no-store", tt.ready, tt.method, tt.path, rec.Header().Get("Cache-Control"))
		}
	}
}

// startServe runs serve with handler h on a loopback port and returns the
// server's base URL, a cancel function standing in for the signal, and
// serve's result.
func startServe(t *testing.T, h http.Handler, ready *atomic.Bool, drainDelay, shutdownTimeout time.Duration) (string, context.CancelCauseFunc, <-chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	t.Cleanup(func() { cancel(nil) })
	logger := slog.New(slog.DiscardHandler)
	done := make(chan error, 1)
	go func() { done <- serve(ctx, logger, newHTTPServer(h, logger), ln, ready, drainDelay, shutdownTimeout) }()
	return "http://" + ln.Addr().String(), cancel, done
}

// client makes a new connection per request, so no test request rides on
// a connection the server has closed.
var client = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

func TestServeLetsInFlightRequestsFinish(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		_, _ = io.WriteString(w, "finished")
	})
	var ready atomic.Bool
	base, cancel, done := startServe(t, h, &ready, 0, 5*time.Second)

	body := make(chan string, 1)
	go func() {
		resp, err := client.Get(base + "/slow")
		if err != nil {
			body <- err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body <- string(b)
	}()
	<-entered
	cancel(errors.New("test signal"))
	time.Sleep(100 * time.Millisecond) // Shutdown is now waiting for the request
	select {
	case err := <-done:
		t.Fatalf("serve returned %v while a request was in flight", err)
	default:
	}
	if ready.Load() {
		t.Error("still ready after the shutdown signal")
	}
	close(release)

	if got := <-body; got != "finished" {
		t.Errorf("in-flight request got %q, want %q", got, "finished")
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve: %v, want nil after a clean shutdown", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("serve did not return after the last request finished")
	}
}

func TestServeShutdownTimeout(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	defer close(release)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release // longer than the shutdown timeout
	})
	var ready atomic.Bool
	base, cancel, done := startServe(t, h, &ready, 0, 200*time.Millisecond)
	go func() {
		if resp, err := client.Get(base + "/stuck"); err == nil {
			resp.Body.Close()
		}
	}()
	<-entered

	start := time.Now()
	cancel(errors.New("test signal"))
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "200ms") {
			t.Errorf("serve: %v, want a deadline error naming the 200ms timeout", err)
		}
		if elapsed := time.Since(start); elapsed > 2*time.Second {
			t.Errorf("serve took %s to give up, want about 200ms", elapsed)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("serve did not return after the shutdown timeout")
	}
}

func TestServeReportsListenerFailure(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close() // Serve fails at once
	var ready atomic.Bool
	logger := slog.New(slog.DiscardHandler)
	err = serve(context.Background(), logger, newHTTPServer(http.NotFoundHandler(), logger), ln, &ready, 0, time.Second)
	if err == nil || errors.Is(err, http.ErrServerClosed) {
		t.Errorf("serve on a closed listener: %v, want an error", err)
	}
	if ready.Load() {
		t.Error("ready after serve failed")
	}
}
