package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/airgap-go-constructs/mirror/internal/verify"
)

// A "*" (binary-mode) line, as sha256sum -b writes it: the installed
// SHA256SUMS must be the pinned bytes, not a re-rendering, or the copy would
// no longer match its own pin.
func TestInstallKeepsThePinnedBytes(t *testing.T) {
	src, _ := testBundle(t)
	sums, _ := os.ReadFile(filepath.Join(src, verify.SumsName))
	binary := bytes.ReplaceAll(sums, []byte("  "), []byte(" *"))
	os.WriteFile(filepath.Join(src, verify.SumsName), binary, 0o644)
	h := sha256.Sum256(binary)
	pinned := hex.EncodeToString(h[:])
	dst := t.TempDir()
	var log bytes.Buffer
	if code := install(context.Background(), src, dst, pinned, slog.New(slog.NewJSONHandler(&log, nil))); code != 0 {
		t.Fatalf("install: %d\n%s", code, log.String())
	}
	got, _ := os.ReadFile(filepath.Join(dst, verify.SumsName))
	if !bytes.Equal(got, binary) {
		t.Fatalf("installed SHA256SUMS differs from the pinned bytes:\n%q\n%q", got, binary)
	}
	if res, err := verify.Verify(context.Background(), dst, pinned, 0); err != nil || !res.OK() {
		t.Fatalf("the copy does not verify against the same pin: %v %+v", err, res.Problems)
	}
}

func TestInstall(t *testing.T) {
	cases := []struct {
		name     string
		spoil    func(t *testing.T, dir string)
		pinned   func(good string) string
		wantCode int
		wantLog  string
	}{
		{name: "intact bundle is copied and verifies again", wantCode: 0, wantLog: `"msg":"installed bundle"`},
		{
			name: "one flipped byte",
			spoil: func(t *testing.T, dir string) {
				os.WriteFile(filepath.Join(dir, "manifest.json"), []byte("{]\n"), 0o644)
			},
			wantCode: 1,
			wantLog:  `"file":"manifest.json","reason":"sha256 mismatch`,
		},
		{
			name:     "unlisted file",
			spoil:    func(t *testing.T, dir string) { os.WriteFile(filepath.Join(dir, "extra"), []byte("x"), 0o644) },
			wantCode: 1,
			wantLog:  `"file":"extra","reason":"not listed in SHA256SUMS"`,
		},
		{
			name:     "wrong pinned hash",
			pinned:   func(string) string { return strings.Repeat("0", 64) },
			wantCode: 1,
			wantLog:  `"file":"SHA256SUMS"`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src, pinned := testBundle(t)
			if tc.spoil != nil {
				tc.spoil(t, src)
			}
			if tc.pinned != nil {
				pinned = tc.pinned(pinned)
			}
			dst := t.TempDir()
			var log bytes.Buffer
			code := install(context.Background(), src, dst, pinned, slog.New(slog.NewJSONHandler(&log, nil)))
			if code != tc.wantCode || !strings.Contains(log.String(), tc.wantLog) {
				t.Fatalf("install = %d, want %d; log:\n%s\nwant it to contain %s", code, tc.wantCode, log.String(), tc.wantLog)
			}
			if code != 0 {
				entries, _ := os.ReadDir(dst)
				if len(entries) != 0 {
					t.Fatalf("a rejected bundle left %d entries in the destination", len(entries))
				}
				return
			}
			// The copy is itself a bundle that verifies against the same pin.
			res, err := verify.Verify(context.Background(), dst, pinned, 0)
			if err != nil || !res.OK() || len(res.Files) != 2 {
				t.Fatalf("installed copy does not verify: %v %+v", err, res)
			}
			info, _ := os.Stat(filepath.Join(dst, "manifest.json"))
			if info.Mode().Perm() != 0o444 {
				t.Fatalf("installed file mode %v, want read-only 0444", info.Mode().Perm())
			}
		})
	}
}

func TestInstallSelf(t *testing.T) {
	dst := filepath.Join(t.TempDir(), "tools", "offline-mirror")
	var log bytes.Buffer
	if code := installSelf(dst, slog.New(slog.NewJSONHandler(&log, nil))); code != 0 {
		t.Fatalf("installSelf = %d: %s", code, log.String())
	}
	self, _ := os.Executable()
	a, _ := os.ReadFile(self)
	b, _ := os.ReadFile(dst)
	if sha256.Sum256(a) != sha256.Sum256(b) {
		t.Fatal("installed binary differs from this executable")
	}
	if info, _ := os.Stat(dst); info.Mode().Perm() != 0o555 {
		t.Fatalf("mode %v, want 0555", info.Mode().Perm())
	}
}

func TestRunInstallFlags(t *testing.T) {
	src, pinned := testBundle(t)
	var out, errb bytes.Buffer
	env := func(string) string { return "" }
	if code := run([]string{"-install", src, "-sha256sums-hash", pinned}, env, &out, &errb); code != 2 || !strings.Contains(errb.String(), "needs -to") {
		t.Fatalf("-install without -to = %d: %s", code, errb.String())
	}
	dst := t.TempDir()
	errb.Reset()
	if code := run([]string{"-install", src, "-to", dst, "-sha256sums-hash", pinned}, env, &out, &errb); code != 0 {
		t.Fatalf("-install = %d: %s", code, errb.String())
	}
	data, _ := os.ReadFile(filepath.Join(dst, verify.SumsName))
	if h := sha256.Sum256(data); hex.EncodeToString(h[:]) != pinned {
		t.Fatal("installed SHA256SUMS does not hash to the pin")
	}
}
