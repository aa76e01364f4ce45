package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/airgap-go-constructs/mirror/internal/server"
	"github.com/airgap-go-constructs/mirror/internal/verify"
)

func testBundle(t *testing.T) (string, string) {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{"manifest.json": "{}\n", "golang.org/x/text/@v/list": "v0.43.0\n"}
	var sums []verify.Sum
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(content), 0o644)
		sums = append(sums, verify.Sum{Path: name, Hash: sha256.Sum256([]byte(content))})
	}
	data := verify.FormatSums(sums)
	os.WriteFile(filepath.Join(dir, verify.SumsName), data, 0o644)
	h := sha256.Sum256(data)
	return dir, hex.EncodeToString(h[:])
}

func TestRunUsage(t *testing.T) {
	hash := strings.Repeat("a", 64)
	for _, tc := range []struct {
		name   string
		args   []string
		env    map[string]string
		code   int
		stderr string
		stdout string
	}{
		{"no hash", []string{"-bundle", "/b"}, nil, 2, "refusing to start without -sha256sums-hash", ""},
		{"empty hash env", []string{"-bundle", "/b"}, map[string]string{"MIRROR_SHA256SUMS_HASH": ""}, 2, "refusing to start", ""},
		{"bad hash", []string{"-bundle", "/b", "-sha256sums-hash", "xyz"}, nil, 2, "want 64 hex digits", ""},
		{"hash from env, no bundle", nil, map[string]string{"MIRROR_SHA256SUMS_HASH": hash}, 2, "-bundle (or MIRROR_BUNDLE) is required", ""},
		{"stray argument", []string{"-bundle", "/b", "extra"}, nil, 2, "unexpected arguments", ""},
		{"unknown flag", []string{"-nope"}, nil, 2, "flag provided but not defined", ""},
		{"bad listen from env", []string{"-bundle", "/b", "-sha256sums-hash", hash}, map[string]string{"MIRROR_LISTEN": "256.0.0.1:x"}, 1, "cannot listen", ""},
		{"version", []string{"-version"}, nil, 0, "", "offline-mirror "},
		{"help", []string{"-h"}, nil, 0, "usage: offline-mirror", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tc.args, func(k string) string { return tc.env[k] }, &stdout, &stderr)
			if code != tc.code || !strings.Contains(stderr.String(), tc.stderr) || !strings.Contains(stdout.String(), tc.stdout) {
				t.Fatalf("code %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
			}
		})
	}
}

func TestHealthcheckURL(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1:8686":                   "http://127.0.0.1:8686/readyz",
		":8686":                            "http://127.0.0.1:8686/readyz",
		"http://127.0.0.1:8686":            "http://127.0.0.1:8686/readyz",
		"http://127.0.0.1:8686/":           "http://127.0.0.1:8686/readyz",
		"http://127.0.0.1:8686/healthz":    "http://127.0.0.1:8686/healthz",
		"http://mirror.internal:80/readyz": "http://mirror.internal:80/readyz",
		"[::1]:8686":                       "http://[::1]:8686/readyz",
	} {
		if got, err := healthcheckURL(in); err != nil || got != want {
			t.Errorf("healthcheckURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := healthcheckURL("http://"); err == nil {
		t.Error("no host accepted")
	}
}

func TestHealthcheck(t *testing.T) {
	ready := true
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" || !ready {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
		}
	}))
	defer ts.Close()
	addr := strings.TrimPrefix(ts.URL, "http://")
	var stderr bytes.Buffer
	if code := run([]string{"-healthcheck", addr}, func(string) string { return "" }, &stderr, &stderr); code != 0 {
		t.Fatalf("ready: %d %s", code, stderr.String())
	}
	ready = false
	if code := run([]string{"-healthcheck", ts.URL}, func(string) string { return "" }, &stderr, &stderr); code != 1 || !strings.Contains(stderr.String(), "503") {
		t.Fatalf("unready: %d %s", code, stderr.String())
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := ln.Addr().String()
	ln.Close()
	if code := run([]string{"-healthcheck", closed}, func(string) string { return "" }, &stderr, &stderr); code != 1 {
		t.Fatalf("nothing listening: %d", code)
	}
}

func testLimits() limits {
	return limits{maxConns: 64, maxHeaderBytes: 16 << 10, logQueue: 64, writeTimeout: 5 * time.Second, idleTimeout: 5 * time.Second,
		headerTimeout: 5 * time.Second, shutdownTimeout: 5 * time.Second, wedgeAfter: time.Minute}
}

// TestServeAndShutdown: listening starts before verification ends, and a
// cancelled context (the signal) drains and returns nil.
func TestServeAndShutdown(t *testing.T) {
	dir, hash := testBundle(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	go func() { done <- serve(ctx, logger, server.Config{Bundle: dir, Pinned: hash, Logger: logger}, ln, testLimits()) }()
	base := "http://" + ln.Addr().String()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("never ready")
		}
		time.Sleep(20 * time.Millisecond)
	}
	resp, err := http.Get(base + "/golang.org/x/text/@v/list")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("%v %v", resp, err)
	}
	resp.Body.Close()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no shutdown")
	}
}

// TestBinary runs the real, reproducibly built binary: SIGTERM exits 0, no
// pinned hash exits 2, and as root it runs as uid 65532 like the image.
func TestBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command in PATH")
	}
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "offline-mirror")
	build := exec.Command(goBin, "build", "-trimpath", "-ldflags", "-s -w -buildid=", "-o", bin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(bin, "-bundle", tmp)
	cmd.Env = []string{}
	cmd.Stderr = &stderr
	if err := cmd.Run(); cmd.ProcessState.ExitCode() != 2 || !strings.Contains(stderr.String(), "sha256sums-hash") {
		t.Fatalf("without hash: %v %s", err, stderr.String())
	}

	dir, hash := testBundle(t)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	stderr.Reset()
	cmd = exec.Command(bin)
	cmd.Env = []string{"MIRROR_BUNDLE=" + dir, "MIRROR_SHA256SUMS_HASH=" + hash, "MIRROR_LISTEN=" + addr}
	cmd.Stderr = &stderr
	asNobody := os.Geteuid() == 0
	if asNobody {
		// The test's temp dirs are 0700: open the path up for uid 65532.
		for p := dir; p != filepath.Dir(p); p = filepath.Dir(p) {
			if fi, err := os.Stat(p); err == nil && fi.Mode().Perm()&0o005 != 0o005 {
				os.Chmod(p, fi.Mode().Perm()|0o005)
			}
		}
		os.Chmod(tmp, 0o755)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65532, Gid: 65532}}
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	deadline := time.Now().Add(10 * time.Second)
	for {
		hc := exec.Command(bin, "-healthcheck", addr)
		if hc.Run() == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("never ready:\n%s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	err = cmd.Wait()
	if err != nil || !strings.Contains(stderr.String(), `"msg":"stopped"`) {
		t.Fatalf("after SIGTERM: %v\n%s", err, stderr.String())
	}
	if asNobody && !strings.Contains(stderr.String(), `"msg":"bundle verified"`) {
		t.Fatalf("as uid 65532:\n%s", stderr.String())
	}
}
