package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/airgap-go-constructs/mirror/internal/verify"
)

// installSelf copies this executable to dst (mode 0555). A bundle data image
// is FROM scratch and has no program to copy itself with, so in a pod the
// mirror image's init container hands its binary over through an emptyDir,
// and the bundle image's init container runs it with -install.
func installSelf(dst string, logger *slog.Logger) int {
	self, err := os.Executable()
	if err == nil {
		self, err = filepath.EvalSymlinks(self)
	}
	if err != nil {
		logger.Error("install-self: cannot find this executable", "error", err.Error())
		return 1
	}
	if err := verify.CopyFile(self, dst, 0o555, nil); err != nil {
		logger.Error("install-self failed", "to", dst, "error", err.Error())
		return 1
	}
	logger.Info("installed", "to", dst)
	return 0
}

// install verifies the bundle at src against the pinned hash and copies every
// listed file, and SHA256SUMS, into dst. Each file is hashed again while it is
// copied, so a file swapped between the check and the copy is caught too. On
// any problem it names the files, removes what it wrote and fails, so the pod
// never starts on a bad bundle; the server verifies again at start.
func install(ctx context.Context, src, dst, pinned string, logger *slog.Logger) int {
	res, err := verify.Verify(ctx, src, pinned, 0)
	if err != nil {
		logger.Error("install: verification interrupted", "error", err.Error())
		return 1
	}
	if !res.OK() {
		for _, p := range res.Problems {
			logger.Error("install: bundle rejected", "file", p.Path, "reason", p.Reason)
		}
		return 1
	}
	var written []string
	fail := func(path string, err error) int {
		logger.Error("install: copy failed", "file", path, "error", err.Error())
		for _, w := range written {
			os.Remove(w)
		}
		return 1
	}
	// The pinned bytes themselves, not a re-rendering: the installed copy must
	// hash to the same pin (a "*" binary-mode line would not survive a rewrite).
	sumsDst := filepath.Join(dst, verify.SumsName)
	if err := writeFile(sumsDst, res.SumsData); err != nil {
		return fail(verify.SumsName, err)
	}
	written = append(written, sumsDst)
	for _, f := range res.Files {
		target := filepath.Join(dst, filepath.FromSlash(f.Path))
		want := f.Sum
		if err := verify.CopyFile(f.RealPath, target, 0o444, &want); err != nil {
			return fail(f.Path, err)
		}
		written = append(written, target)
	}
	logger.Info("installed bundle", "from", src, "to", dst, "files", len(res.Files), "bytes", res.Bytes, "sha256sums", res.SumsHash)
	return 0
}

func writeFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o444)
}
