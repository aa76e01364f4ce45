package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCLI(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, func(k string) string { return env[k] }, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestUsage(t *testing.T) {
	hash := strings.Repeat("a", 64)
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"nothing", nil, 2, "-out is required"},
		{"no modules", []string{"-out", "x"}, 2, "at least one module directory"},
		{"verify without hash", []string{"-verify", "x"}, 2, "-verify needs -sha256sums-hash"},
		{"verify with out", []string{"-verify", "x", "-out", "y", "-sha256sums-hash", hash}, 2, "-verify takes no"},
		{"verify bad hash", []string{"-verify", "x", "-sha256sums-hash", "nope"}, 2, "want 64 hex digits"},
		{"bad toolchain name", []string{"-out", "x", "-toolchain", "a=../b"}, 2, "dot segment"},
		{"help", []string{"-h"}, 0, "usage: offline-bundle"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, nil, tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.stderr) {
				t.Fatalf("code %d, stderr %q", code, stderr)
			}
		})
	}
}

func TestBundleAndVerify(t *testing.T) {
	src := filepath.Join(t.TempDir(), "go.tar.gz")
	os.WriteFile(src, []byte("toolchain"), 0o644)
	out := filepath.Join(t.TempDir(), "bundle")
	code, stdout, stderr := runCLI(t, nil, "-out", out, "-toolchain", src)
	hash := strings.TrimSpace(stdout)
	if code != 0 || len(hash) != 64 {
		t.Fatalf("bundle: %d %q %s", code, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(out, "files", "go.tar.gz")); err != nil {
		t.Fatal(err)
	}
	if code, stdout, _ := runCLI(t, nil, "-verify", out, "-sha256sums-hash", hash); code != 0 || !strings.Contains(stdout, "OK: 2 files") {
		t.Fatalf("verify: %d %q", code, stdout)
	}
	// The hash may come from the environment, as for the server.
	if code, _, _ := runCLI(t, map[string]string{"MIRROR_SHA256SUMS_HASH": hash}, "-verify", out); code != 0 {
		t.Fatalf("verify with env hash: %d", code)
	}
	if code, _, stderr := runCLI(t, nil, "-out", out, "-toolchain", src); code != 1 || !strings.Contains(stderr, "refusing to write into non-empty") {
		t.Fatalf("second run: %d %s", code, stderr)
	}

	os.WriteFile(filepath.Join(out, "files", "go.tar.gz"), []byte("t0olchain"), 0o644)
	os.WriteFile(filepath.Join(out, "files", "extra"), nil, 0o644)
	code, _, stderr = runCLI(t, nil, "-verify", out, "-sha256sums-hash", hash)
	for _, want := range []string{"BAD files/go.tar.gz: sha256 mismatch", "BAD files/extra: not listed", "verification FAILED: 2 problem(s)"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if code != 1 {
		t.Errorf("code %d", code)
	}
}
