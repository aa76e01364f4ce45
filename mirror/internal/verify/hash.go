package verify

import (
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"runtime"
	"slices"
	"sync"
)

// bufSize is the read size per worker. Large reads keep the syscall count
// low for module zips and toolchain tarballs; 1 MiB still fits in L2 cache
// next to the hash state, so it does not slow the many tiny .info files.
const bufSize = 1 << 20

// Hashed is the outcome of hashing one file.
type Hashed struct {
	Sum  [sha256.Size]byte
	Size int64       // bytes actually read
	Info os.FileInfo // fstat of the opened file, for later change detection
	Err  error
}

// HashFiles hashes the named files with one worker per CPU (workers <= 0)
// and returns the results in the order of paths. sizes, when given, is a
// hint: the largest files start first, so that one big tarball at the end
// of the queue does not leave the other cores idle.
func HashFiles(ctx context.Context, paths []string, sizes []int64, workers int) []Hashed {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	order := make([]int, len(paths))
	for i := range order {
		order[i] = i
	}
	if len(sizes) == len(paths) {
		slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(sizes[b], sizes[a]) })
	}
	workers = min(workers, max(len(paths), 1))
	out := make([]Hashed, len(paths))
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			buf := make([]byte, bufSize)
			for i := range next {
				out[i] = hashFile(paths[i], buf)
			}
		})
	}
feed:
	for _, i := range order {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		for i := range out {
			if out[i].Info == nil && out[i].Err == nil {
				out[i].Err = err
			}
		}
	}
	return out
}

// hashFile reads with plain Read calls rather than io.Copy: os.File's
// WriteTo would bypass buf and fall back to 32 KiB reads.
func hashFile(path string, buf []byte) Hashed {
	var r Hashed
	f, err := os.Open(path)
	if err != nil {
		r.Err = err
		return r
	}
	defer f.Close()
	if r.Info, err = f.Stat(); err != nil {
		r.Err = err
		return r
	}
	h := sha256.New()
	for {
		n, err := f.Read(buf)
		h.Write(buf[:n])
		r.Size += int64(n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			r.Err = err
			return r
		}
	}
	h.Sum(r.Sum[:0])
	return r
}

// HashBytes is sha256 of data, for the pinned hash of SHA256SUMS.
func HashBytes(data []byte) [sha256.Size]byte { return sha256.Sum256(data) }
