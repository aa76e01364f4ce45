package archive

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func write(t *testing.T, path string, opts Options, files map[string][]byte, order []string) ([]string, string) {
	t.Helper()
	w, err := Create(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range order {
		if err := w.AddBytes(name, 0o644, files[name]); err != nil {
			t.Fatal(err)
		}
	}
	paths, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	for _, p := range paths {
		data, _ := os.ReadFile(p)
		h.Write(data)
	}
	return paths, hex.EncodeToString(h.Sum(nil))
}

func readAll(t *testing.T, path string) (map[string][]byte, error) {
	t.Helper()
	r, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	got := map[string][]byte{}
	for {
		e, err := r.Next()
		if err == ErrEnd {
			break
		}
		if err != nil {
			return got, err
		}
		data, err := io.ReadAll(e.Body)
		if err != nil {
			return got, err
		}
		got[e.Name] = data
	}
	return got, r.Finish()
}

func fixture() (map[string][]byte, []string) {
	rng := rand.New(rand.NewSource(1))
	big := make([]byte, 3<<20)
	rng.Read(big)
	files := map[string][]byte{"SHA256SUMS": []byte("x\n"), "a/small.txt": []byte("hello\n"), "oci/blobs/sha256/big": big}
	return files, []string{"SHA256SUMS", "a/small.txt", "oci/blobs/sha256/big"}
}

func TestRoundTripPlainZstdAndParts(t *testing.T) {
	files, order := fixture()
	for _, opts := range []Options{{}, {Zstd: true}, {PartSize: 1 << 20}, {Zstd: true, PartSize: 700 << 10}} {
		dir := t.TempDir()
		path := filepath.Join(dir, "kit.tar")
		paths, sum := write(t, path, opts, files, order)
		if opts.PartSize > 0 && (len(paths) < 2 || paths[0] != path+".000") {
			t.Fatalf("%+v: parts %v", opts, paths)
		}
		got, err := readAll(t, path)
		if err != nil {
			t.Fatalf("%+v: %v", opts, err)
		}
		for name, data := range files {
			if !bytes.Equal(got[name], data) {
				t.Fatalf("%+v: %s differs", opts, name)
			}
		}
		// The same content gives the same bytes.
		again, sum2 := write(t, filepath.Join(dir, "again.tar"), opts, files, order)
		if sum2 != sum || len(again) != len(paths) {
			t.Fatalf("%+v: not deterministic", opts)
		}
	}
}

// Every single flipped byte, wherever it lands (content, header, padding,
// end blocks, compressed frames), makes reading fail or changes a file's
// content, which the caller's SHA256SUMS check catches. The whole archive is
// tried, byte by byte, in the uncompressed case (the fixture is small), and
// at 60 random offsets in each part of the compressed one.
func TestEveryFlipIsCaught(t *testing.T) {
	small := map[string][]byte{"SHA256SUMS": []byte("x\n"), "a/small.txt": []byte("hello\n"), "b/odd.bin": bytes.Repeat([]byte{7}, 513)}
	order := []string{"SHA256SUMS", "a/small.txt", "b/odd.bin"}
	caught := func(path string) bool {
		got, err := readAll(t, path)
		if err != nil {
			return true
		}
		for name, data := range small {
			if !bytes.Equal(got[name], data) {
				return true
			}
		}
		return len(got) != len(small)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "kit.tar")
	write(t, path, Options{}, small, order)
	orig, _ := os.ReadFile(path)
	for off := range orig {
		spoiled := append([]byte(nil), orig...)
		spoiled[off] ^= 0x01
		os.WriteFile(path, spoiled, 0o644)
		if !caught(path) {
			t.Fatalf("a flipped byte at offset %d of %d went unnoticed", off, len(orig))
		}
	}
	rng := rand.New(rand.NewSource(2))
	files, bigOrder := fixture()
	small, order = files, bigOrder
	zpath := filepath.Join(dir, "kit.tar.zst")
	paths, _ := write(t, zpath, Options{Zstd: true, PartSize: 700 << 10}, files, bigOrder)
	for _, part := range paths {
		orig, _ := os.ReadFile(part)
		for i := 0; i < 60; i++ {
			spoiled := append([]byte(nil), orig...)
			off := rng.Intn(len(spoiled))
			spoiled[off] ^= byte(1 << rng.Intn(8))
			os.WriteFile(part, spoiled, 0o644)
			if !caught(zpath) {
				t.Fatalf("a flipped byte at %d of %s went unnoticed", off, filepath.Base(part))
			}
		}
		os.WriteFile(part, orig, 0o644)
	}
}

func TestMissingAndTruncatedParts(t *testing.T) {
	files, order := fixture()
	dir := t.TempDir()
	path := filepath.Join(dir, "kit.tar")
	paths, _ := write(t, path, Options{PartSize: 1 << 20}, files, order)
	os.Rename(paths[1], paths[1]+".away")
	if _, err := Open(path); err == nil || !strings.Contains(err.Error(), "archive part "+path+".001 is missing") {
		t.Fatalf("gap: %v", err)
	}
	os.Rename(paths[1]+".away", paths[1])
	last := paths[len(paths)-1]
	os.Remove(last)
	if _, err := readAll(t, path); err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Fatalf("missing last part: %v", err)
	}
	if _, err := Open(filepath.Join(dir, "nothing.tar")); err == nil {
		t.Fatal("opened an archive that does not exist")
	}
}

func TestDataAfterTheEndIsRefused(t *testing.T) {
	files, order := fixture()
	path := filepath.Join(t.TempDir(), "kit.tar")
	write(t, path, Options{}, files, order)
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.Write(bytes.Repeat([]byte{0}, 1024))
	f.Write([]byte("extra"))
	f.Close()
	if _, err := readAll(t, path); err == nil || !strings.Contains(err.Error(), "archive's end is not what") && !strings.Contains(err.Error(), "data after its end") {
		t.Fatalf("trailing data: %v", err)
	}
}

func TestSizeMismatchAndDuplicates(t *testing.T) {
	w, _ := Create(filepath.Join(t.TempDir(), "kit.tar"), Options{})
	defer w.Abort()
	if err := w.Add("a", 0o644, 10, strings.NewReader("short")); err == nil {
		t.Fatal("a short body was accepted")
	}
	w2, _ := Create(filepath.Join(t.TempDir(), "kit.tar"), Options{})
	defer w2.Abort()
	w2.AddBytes("a", 0o644, []byte("x"))
	if err := w2.AddBytes("a", 0o644, []byte("x")); err == nil {
		t.Fatal("a name was written twice")
	}
}
