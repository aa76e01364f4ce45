package verify

import (
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"path/filepath"
)

// ErrChanged means a file's bytes no longer hash to what was verified.
var ErrChanged = errors.New("content changed after verification")

// CopyFile copies src to dst (creating its directory) through a temporary
// file renamed into place, so dst is never seen half-written, and sets mode.
// With want, the bytes copied must hash to it, else ErrChanged: a file
// swapped between verification and copy is caught.
func CopyFile(src, dst string, mode os.FileMode, want *[sha256.Size]byte) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	tmp := dst + ".copying"
	out, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(out, h), in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil && want != nil && [sha256.Size]byte(h.Sum(nil)) != *want {
		err = ErrChanged
	}
	if err == nil {
		err = os.Chmod(tmp, mode)
	}
	if err == nil {
		err = os.Rename(tmp, dst)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}
