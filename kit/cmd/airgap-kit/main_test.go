package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runArgs(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestUsageAndExitCodes(t *testing.T) {
	if code, _, stderr := runArgs(); code != 2 || !strings.Contains(stderr, "usage: airgap-kit <command>") {
		t.Fatalf("no command: %d %q", code, stderr)
	}
	if code, stdout, _ := runArgs("--help"); code != 0 || !strings.Contains(stdout, "built-images") {
		t.Fatalf("--help: %d", code)
	}
	if code, _, stderr := runArgs("pakc"); code != 2 || !strings.Contains(stderr, `unknown command "pakc"`) {
		t.Fatalf("unknown: %d %q", code, stderr)
	}
	for _, cmd := range []string{"pack", "verify", "push", "built-images"} {
		if code, stdout, _ := runArgs(cmd, "-h"); code != 0 || !strings.HasPrefix(stdout, "usage: airgap-kit "+cmd) {
			t.Fatalf("%s -h: %d %q", cmd, code, stdout)
		}
	}
	if code, _, stderr := runArgs("pack", "-out", "x.tar"); code != 2 || !strings.Contains(stderr, "-out and -key are required") {
		t.Fatalf("pack without -key: %d %q", code, stderr)
	}
	if code, _, stderr := runArgs("verify", "-archive", "x", "-public-key", "k"); code != 2 || !strings.Contains(stderr, "-sha256sums-hash (or -sha256sums-hash-file) are required") {
		t.Fatalf("verify without a pin: %d %q", code, stderr)
	}
	if code, _, stderr := runArgs("verify", "-archive", "x", "-public-key", "k", "-sha256sums-hash", "abc"); code != 1 || !strings.Contains(stderr, "is not 64 lowercase hex digits") {
		t.Fatalf("verify with a bad pin: %d %q", code, stderr)
	}
	if code, _, stderr := runArgs("pack", "-key", "k", "-out", "o", "-split-size", "2GB"); code != 2 || !strings.Contains(stderr, "is not a size") {
		t.Fatalf("bad size: %d %q", code, stderr)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"700M": 700 << 20, "2G": 2 << 30, "512K": 512 << 10, "100": 100} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v", in, got, err)
		}
	}
}

func TestPreviewsReapRefusesAProviderMirrorThatIsNoFolderBeforeTouchingTheCluster(t *testing.T) {
	var out, errOut bytes.Buffer
	file := filepath.Join(t.TempDir(), "not-a-dir")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	// No kubeconfig anywhere: a usage error must come first, and say what to pass.
	t.Setenv("KUBECONFIG", filepath.Join(t.TempDir(), "none"))
	code := runPreviews(context.Background(), []string{"reap", "-provider-mirror", file}, &out, &errOut)
	if code != 2 || !strings.Contains(errOut.String(), "is not a directory: pass the folder that holds registry.opentofu.org/") {
		t.Fatalf("exit %d, stderr %q", code, errOut.String())
	}
}
