package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func env(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

func TestParseConfig(t *testing.T) {
	defaults := config{addr: ":8080", drainDelay: 5 * time.Second, shutdownTimeout: 10 * time.Second, logLevel: slog.LevelInfo, logFormat: "json"}
	with := func(f func(*config)) config { c := defaults; f(&c); return c }

	tests := []struct {
		name string
		args []string
		env  map[string]string
		want config
	}{
		{name: "defaults", want: defaults},
		{name: "PORT", env: map[string]string{"PORT": "9090"}, want: with(func(c *config) { c.addr = ":9090" })},
		{name: "-addr wins over PORT", args: []string{"-addr", "127.0.0.1:7000"}, env: map[string]string{"PORT": "9090"}, want: with(func(c *config) { c.addr = "127.0.0.1:7000" })},
		{name: "environment", env: map[string]string{"DRAIN_DELAY": "0s", "SHUTDOWN_TIMEOUT": "30s", "LOG_LEVEL": "debug", "LOG_FORMAT": "text"},
			want: with(func(c *config) {
				c.drainDelay, c.shutdownTimeout, c.logLevel, c.logFormat = 0, 30*time.Second, slog.LevelDebug, "text"
			})},
		{name: "flags win over the environment", args: []string{"-drain-delay", "1s", "-shutdown-timeout", "2s", "-log-level", "WARN", "-log-format", "json"},
			env: map[string]string{"DRAIN_DELAY": "0s", "SHUTDOWN_TIMEOUT": "30s", "LOG_LEVEL": "debug", "LOG_FORMAT": "text"},
			want: with(func(c *config) {
				c.drainDelay, c.shutdownTimeout, c.logLevel = time.Second, 2*time.Second, slog.LevelWarn
			})},
		{name: "-healthcheck", args: []string{"-healthcheck"}, env: map[string]string{"PORT": "9090"}, want: with(func(c *config) { c.addr, c.healthcheck = ":9090", true })},
		{name: "healthcheck argument", args: []string{"healthcheck"}, want: with(func(c *config) { c.healthcheck = true })},
		{name: "healthcheck argument with flags around it", args: []string{"-log-level", "error", "healthcheck", "-addr", "127.0.0.1:81"},
			want: with(func(c *config) { c.addr, c.logLevel, c.healthcheck = "127.0.0.1:81", slog.LevelError, true })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr strings.Builder
			got, err := parseConfig(tt.args, env(tt.env), &stderr)
			if err != nil {
				t.Fatalf("parseConfig: %v\n%s", err, stderr.String())
			}
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
			if stderr.Len() > 0 {
				t.Errorf("stderr: %q", stderr.String())
			}
		})
	}
}

func TestParseConfigErrors(t *testing.T) {
	tests := []struct {
		name       string
		args       []string
		env        map[string]string
		wantStderr string
	}{
		{name: "PORT not a number", env: map[string]string{"PORT": "http"}, wantStderr: `PORT="http"`},
		{name: "PORT 0", env: map[string]string{"PORT": "0"}, wantStderr: `PORT="0"`},
		{name: "PORT too large", env: map[string]string{"PORT": "65536"}, wantStderr: `PORT="65536"`},
		{name: "DRAIN_DELAY without unit", env: map[string]string{"DRAIN_DELAY": "5"}, wantStderr: `DRAIN_DELAY="5"`},
		{name: "SHUTDOWN_TIMEOUT garbage", env: map[string]string{"SHUTDOWN_TIMEOUT": "soon"}, wantStderr: `SHUTDOWN_TIMEOUT="soon"`},
		{name: "LOG_LEVEL unknown", env: map[string]string{"LOG_LEVEL": "loud"}, wantStderr: `LOG_LEVEL="loud"`},
		{name: "LOG_FORMAT unknown", env: map[string]string{"LOG_FORMAT": "xml"}, wantStderr: `"xml"`},
		{name: "unknown flag", args: []string{"-verbose"}, wantStderr: "flag provided but not defined: -verbose"},
		{name: "negative drain delay", args: []string{"-drain-delay", "-1s"}, wantStderr: "negative"},
		{name: "zero shutdown timeout", args: []string{"-shutdown-timeout", "0s"}, wantStderr: "not positive"},
		{name: "addr without port", args: []string{"-addr", "8080"}, wantStderr: `-addr "8080"`},
		{name: "addr with named port", args: []string{"-addr", ":http"}, wantStderr: "numeric port"},
		{name: "stray argument", args: []string{"serve"}, wantStderr: `unexpected argument "serve"`},
		{name: "argument after healthcheck", args: []string{"healthcheck", "now"}, wantStderr: `unexpected argument "now"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr strings.Builder
			_, err := parseConfig(tt.args, env(tt.env), &stderr)
			if err == nil {
				t.Fatal("no error")
			}
			if code := exitCode(err); code != 2 {
				t.Errorf("exit code %d, want 2", code)
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stderr %q does not contain %q", stderr.String(), tt.wantStderr)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	var stdout, stderr strings.Builder
	err := run(context.Background(), []string{"-h"}, env(nil), &stdout, &stderr)
	if !errors.Is(err, flag.ErrHelp) || exitCode(err) != 0 {
		t.Errorf("run -h: %v (exit code %d), want flag.ErrHelp and 0", err, exitCode(err))
	}
	for _, want := range []string{"-addr", "-drain-delay", "-shutdown-timeout", "-healthcheck", "PORT"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("usage does not mention %s:\n%s", want, stderr.String())
		}
	}
}

func TestHealthcheckURL(t *testing.T) {
	tests := []struct{ addr, want string }{
		{":8080", "http://127.0.0.1:8080/healthz"},
		{"0.0.0.0:8080", "http://127.0.0.1:8080/healthz"},
		{"[::]:8080", "http://[::1]:8080/healthz"},
		{"127.0.0.1:9000", "http://127.0.0.1:9000/healthz"},
		{"[::1]:9000", "http://[::1]:9000/healthz"},
		{"localhost:8080", "http://localhost:8080/healthz"},
		{":0", ""},
	}
	for _, tt := range tests {
		got, err := healthcheckURL(tt.addr)
		if tt.want == "" {
			if err == nil {
				t.Errorf("healthcheckURL(%q) = %q, want an error", tt.addr, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("healthcheckURL(%q) = %q, %v, want %q", tt.addr, got, err, tt.want)
		}
	}
}

func TestHealthcheck(t *testing.T) {
	status := func(code int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/healthz" {
				http.NotFound(w, r)
				return
			}
			w.WriteHeader(code)
		}
	}
	closed := httptest.NewServer(status(200))
	closed.Close()

	tests := []struct {
		name       string
		addr       string // of a test server, or of a closed port
		handler    http.HandlerFunc
		args       func(addr string) []string
		wantErr    bool
		wantStderr string
	}{
		{name: "healthy", handler: status(200), args: func(a string) []string { return []string{"-healthcheck", "-addr", a} }},
		{name: "healthy, argument form", handler: status(200), args: func(a string) []string { return []string{"healthcheck", "-addr", a} }},
		{name: "unhealthy", handler: status(503), args: func(a string) []string { return []string{"-healthcheck", "-addr", a} }, wantErr: true, wantStderr: "503 Service Unavailable"},
		{name: "redirect is not healthy", handler: func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/elsewhere", http.StatusFound) },
			args: func(a string) []string { return []string{"-healthcheck", "-addr", a} }, wantErr: true, wantStderr: "302 Found"},
		{name: "nothing listening", addr: strings.TrimPrefix(closed.URL, "http://"), args: func(a string) []string { return []string{"-healthcheck", "-addr", a} }, wantErr: true, wantStderr: "connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := tt.addr
			if tt.handler != nil {
				srv := httptest.NewServer(tt.handler)
				defer srv.Close()
				addr = strings.TrimPrefix(srv.URL, "http://")
			}
			var stdout, stderr strings.Builder
			err := run(context.Background(), tt.args(addr), env(nil), &stdout, &stderr)
			if (err != nil) != tt.wantErr {
				t.Fatalf("run: %v, want error %v", err, tt.wantErr)
			}
			if want := map[bool]int{false: 0, true: 1}[tt.wantErr]; exitCode(err) != want {
				t.Errorf("exit code %d, want %d", exitCode(err), want)
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stderr %q does not contain %q", stderr.String(), tt.wantStderr)
			}
			if stdout.Len() > 0 {
				t.Errorf("healthcheck wrote to stdout: %q", stdout.String())
			}
		})
	}
}

func TestHealthcheckUsesPORT(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]
	if err := run(context.Background(), []string{"-healthcheck"}, env(map[string]string{"PORT": port}), io.Discard, io.Discard); err != nil {
		t.Errorf("healthcheck with PORT=%s: %v", port, err)
	}
}

const invalidLine = "(not a JSON log line)"

// logReader decodes the JSON log lines run writes into a pipe.
func logReader(r io.Reader) <-chan map[string]any {
	lines := make(chan map[string]any, 100)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				m = map[string]any{"msg": invalidLine, "line": sc.Text()}
			}
			lines <- m
		}
	}()
	return lines
}

// waitFor returns the next log line with the given message.
func waitFor(t *testing.T, lines <-chan map[string]any, msg string) map[string]any {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case m, ok := <-lines:
			if !ok {
				t.Fatalf("log ended before %q", msg)
			}
			if m["msg"] == invalidLine {
				t.Fatalf("log line is not JSON: %q", m["line"])
			}
			if m["msg"] == msg {
				return m
			}
		case <-timeout:
			t.Fatalf("no %q log line within 5s", msg)
		}
	}
}

func TestRunGracefulShutdown(t *testing.T) {
	pr, pw := io.Pipe()
	lines := logReader(pr)
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	done := make(chan error, 1)
	args := []string{"-addr", "127.0.0.1:0", "-drain-delay", "750ms", "-shutdown-timeout", "2s"}
	go func() {
		err := run(ctx, args, env(nil), pw, io.Discard)
		pw.Close()
		done <- err
	}()

	started := waitFor(t, lines, "listening")
	base := "http://" + started["addr"].(string)
	if started["version"] != version || started["drain_delay"] != "750ms" || started["shutdown_timeout"] != "2s" {
		t.Errorf("startup line: %v", started)
	}
	get := func(path string) int {
		t.Helper()
		resp, err := client.Get(base + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := get("/readyz"); got != 200 {
		t.Fatalf("/readyz before the signal: %d, want 200", got)
	}

	signalled := time.Now()
	cancel(errors.New("terminated signal received"))
	stopping := waitFor(t, lines, "shutting down")
	if stopping["cause"] != "terminated signal received" {
		t.Errorf("shutdown line: %v", stopping)
	}
	// The drain delay: still serving, but no longer ready.
	if got := get("/readyz"); got != 503 {
		t.Errorf("/readyz after the signal: %d, want 503", got)
	}
	if got := get("/healthz"); got != 200 {
		t.Errorf("/healthz while draining: %d, want 200", got)
	}
	if got := get("/hello"); got != 200 {
		t.Errorf("/hello while draining: %d, want 200", got)
	}

	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v, want nil after a clean shutdown", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("run did not return within the drain delay and shutdown timeout")
	}
	if elapsed := time.Since(signalled); elapsed < 750*time.Millisecond {
		t.Errorf("run returned %s after the signal, before the 750ms drain delay", elapsed)
	}
	waitFor(t, lines, "stopped")
	if _, err := client.Get(base + "/healthz"); err == nil {
		t.Error("server still answers after run returned")
	}
}

func TestRunListenError(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler()) // holds the port
	defer srv.Close()
	pr, pw := io.Pipe()
	lines := logReader(pr)
	done := make(chan error, 1)
	go func() {
		err := run(context.Background(), []string{"-addr", strings.TrimPrefix(srv.URL, "http://")}, env(nil), pw, io.Discard)
		pw.Close()
		done <- err
	}()
	line := waitFor(t, lines, "listen failed")
	if line["level"] != "ERROR" || !strings.Contains(line["error"].(string), "address already in use") {
		t.Errorf("listen failure line: %v", line)
	}
	if err := <-done; exitCode(err) != 1 {
		t.Errorf("run on a busy port: %v, exit code %d, want 1", err, exitCode(err))
	}
}
