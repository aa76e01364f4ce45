package server

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const bigName = "files/go1.26.8.linux-amd64.tar.gz"

// bigFiles is testFiles with a file past SmallFileMax, so it streams.
func bigFiles() map[string]string {
	files := map[string]string{}
	for k, v := range testFiles {
		files[k] = v
	}
	files[bigName] = strings.Repeat("toolchain tarball bytes. ", 40000) // ~1 MB
	return files
}

// Every way of changing a bundle file after verification: the server serves
// only the verified bytes of a small file, and refuses (or cuts off) a large
// one and stops serving.
func TestTamper(t *testing.T) {
	inPlaceMtimeKept := func(p string) {
		info, _ := os.Stat(p)
		data, _ := os.ReadFile(p)
		data[0] ^= 0x20
		f, _ := os.OpenFile(p, os.O_WRONLY, 0)
		f.WriteAt(data[:1], 0)
		f.Close()
		os.Chtimes(p, info.ModTime(), info.ModTime())
	}
	renameSwap := func(p string) {
		data, _ := os.ReadFile(p)
		data[0] ^= 0x20
		os.WriteFile(p+".new", data, 0o644)
		os.Rename(p+".new", p)
	}
	appendTo := func(p string) {
		f, _ := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
		f.Write([]byte("more"))
		f.Close()
	}
	for _, tc := range []struct {
		name   string
		change func(p string)
	}{
		{"in place, mtime put back", inPlaceMtimeKept},
		{"rename-swap", renameSwap},
		{"append", appendTo},
	} {
		t.Run("small file: "+tc.name, func(t *testing.T) {
			s, _, dir := newServer(t, nil)
			name := "golang.org/x/text/@v/v0.43.0.zip"
			tc.change(filepath.Join(dir, filepath.FromSlash(name)))
			w := do(s, "GET", "/"+name)
			if w.Code != 200 || w.Body.String() != testFiles[name] {
				t.Fatalf("want the verified bytes, got %d %q…", w.Code, w.Body.String()[:10])
			}
			if !s.Ready() {
				t.Fatal("a small file is served from memory: what is on disk now cannot spoil it")
			}
		})
		t.Run("large file: "+tc.name, func(t *testing.T) {
			s, logs, dir := newServerWith(t, Config{SmallFileMax: 64 << 10}, bigFiles(), nil)
			tc.change(filepath.Join(dir, filepath.FromSlash(bigName)))
			ts := httptest.NewServer(s)
			defer ts.Close()
			resp, err := http.Get(ts.URL + "/" + bigName)
			if err == nil {
				body, rerr := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode == 200 && rerr == nil && string(body) == bigFiles()[bigName] {
					t.Fatal("a changed large file was served whole")
				}
				if resp.StatusCode == 200 && rerr == nil {
					t.Fatalf("a changed large file was served as a complete response (%d bytes)", len(body))
				}
			}
			if s.Ready() {
				t.Fatal("still ready after serving a changed file")
			}
			if w := do(s, "GET", "/readyz"); w.Code != 503 || !strings.Contains(w.Body.String(), "bundle changed after verification: "+bigName) {
				t.Fatalf("readyz %d %q", w.Code, w.Body.String())
			}
			if !strings.Contains(logs.String(), `"file":"`+bigName+`"`) {
				t.Fatalf("the log does not name the file:\n%s", logs)
			}
		})
	}
	t.Run("large file: changed during the download", func(t *testing.T) {
		s, logs, dir := newServerWith(t, Config{SmallFileMax: 64 << 10}, bigFiles(), nil)
		p := filepath.Join(dir, filepath.FromSlash(bigName))
		// Change the tail on disk (same inode, same size) once the first chunk
		// is read and before the rest is: the server has then sent bytes it can
		// no longer vouch for, so the only honest end is a cut-off response.
		s.afterChunk = func(read int64) {
			if read != 256<<10 {
				return
			}
			f, err := os.OpenFile(p, os.O_WRONLY, 0)
			if err != nil {
				t.Error(err)
				return
			}
			defer f.Close()
			if _, err := f.WriteAt([]byte("X"), int64(len(bigFiles()[bigName])-10)); err != nil {
				t.Error(err)
			}
		}
		ts := httptest.NewServer(s)
		defer ts.Close()
		resp, err := http.Get(ts.URL + "/" + bigName)
		if err != nil {
			t.Fatal(err)
		}
		_, rerr := io.ReadAll(resp.Body)
		resp.Body.Close()
		if rerr == nil {
			t.Fatal("the response ended cleanly although the content changed under it")
		}
		if s.Ready() || !strings.Contains(logs.String(), "content changed while serving: response cut off") {
			t.Fatalf("ready=%v\n%s", s.Ready(), logs)
		}
		if m := do(s, "GET", "/metrics").Body.String(); !strings.Contains(m, "\noffline_mirror_aborted_total 1\n") {
			t.Fatalf("aborted not counted:\n%s", m)
		}
	})
	t.Run("large file: an intact one streams whole, with its ETag, and HEAD has its length", func(t *testing.T) {
		s, _, _ := newServerWith(t, Config{SmallFileMax: 64 << 10}, bigFiles(), nil)
		ts := httptest.NewServer(s)
		defer ts.Close()
		resp, err := http.Get(ts.URL + "/" + bigName)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || string(body) != bigFiles()[bigName] || resp.Header.Get("ETag") == "" {
			t.Fatalf("%v %d", err, len(body))
		}
		if w := do(s, "GET", "/"+bigName, "If-None-Match", resp.Header.Get("ETag")); w.Code != 304 {
			t.Fatalf("If-None-Match: %d", w.Code)
		}
		head, _ := http.Head(ts.URL + "/" + bigName)
		if head.ContentLength != int64(len(body)) {
			t.Fatalf("HEAD Content-Length %d", head.ContentLength)
		}
		if !s.Ready() {
			t.Fatal("not ready after intact downloads")
		}
	})
}

// A resource error of the machine is not an integrity failure: that request
// gets 503, readiness stays, and liveness fails only once it has gone on,
// with nothing served, for WedgeAfter.
func TestTransientErrors(t *testing.T) {
	if !transient(&os.PathError{Op: "open", Path: "x", Err: syscall.EMFILE}) || !transient(syscall.ENFILE) || transient(os.ErrNotExist) || transient(errors.New("x")) {
		t.Fatal("classification")
	}
	s, _, dir := newServerWith(t, Config{SmallFileMax: 64 << 10, WedgeAfter: time.Minute}, bigFiles(), nil)
	now := time.Now()
	s.now = func() time.Time { return now }
	// The handler's path for an open that failed with EMFILE (the binary test makes a real one, under prlimit).
	w := httptest.NewRecorder()
	s.transient(w, bigName, &os.PathError{Op: "open", Path: filepath.Join(dir, bigName), Err: syscall.EMFILE})
	if w.Code != 503 || w.Header().Get("Retry-After") != "1" || !strings.Contains(w.Body.String(), "too many open files") {
		t.Fatalf("%d %q", w.Code, w.Body.String())
	}
	if !s.Ready() {
		t.Fatal("a transient error flipped readiness")
	}
	if ok, _ := s.Live(); !ok {
		t.Fatal("not live right after one transient error")
	}
	now = now.Add(2 * time.Minute)
	if ok, why := s.Live(); ok || !strings.Contains(why, "wedged") {
		t.Fatalf("not wedged after two minutes of only transient errors: %v %q", ok, why)
	}
	if w := do(s, "GET", "/healthz"); w.Code != 503 {
		t.Fatalf("healthz of a wedged server: %d", w.Code)
	}
	// One request served clears it.
	if w := do(s, "GET", "/golang.org/x/text/@v/list"); w.Code != 200 {
		t.Fatal(w.Code)
	}
	if w := do(s, "GET", "/healthz"); w.Code != 200 {
		t.Fatalf("healthz after a success: %d", w.Code)
	}
	if m := do(s, "GET", "/metrics").Body.String(); !strings.Contains(m, "\noffline_mirror_transient_errors_total 1\n") || !strings.Contains(m, "\noffline_mirror_errors_total 0\n") {
		t.Fatalf("metrics:\n%s", m)
	}
}

// Long request paths are cut in the log, and a log sink that cannot keep up
// drops lines (counted) instead of holding requests up.
func TestAccessLog(t *testing.T) {
	s, logs, _ := newServer(t, nil)
	long := "/" + strings.Repeat("a", 64<<10) + "/@v/list"
	do(s, "GET", long)
	line := logs.String()
	if strings.Contains(line, strings.Repeat("a", 1000)) || !strings.Contains(line, "…(65545 bytes)") {
		t.Fatalf("long path not cut: %d bytes of log", len(line))
	}

	stuck := make(chan struct{})
	defer close(stuck)
	blocked := NewAccessLog(blockingWriter{stuck}, 4)
	dir, pinned := writeBundle(t, testFiles)
	s2 := New(Config{Bundle: dir, Pinned: pinned, AccessLog: blocked})
	s2.Verify(context.Background())
	start := time.Now()
	for i := 0; i < 200; i++ {
		if w := do(s2, "GET", "/golang.org/x/text/@v/list"); w.Code != 200 {
			t.Fatal(w.Code)
		}
	}
	if time.Since(start) > 5*time.Second {
		t.Fatal("requests waited for a stuck log")
	}
	if blocked.Dropped() < 190 {
		t.Fatalf("dropped %d", blocked.Dropped())
	}
	if m := do(s2, "GET", "/metrics").Body.String(); !strings.Contains(m, "offline_mirror_log_dropped_total ") {
		t.Fatalf("metrics:\n%s", m)
	}
}

type blockingWriter struct{ stuck chan struct{} }

func (b blockingWriter) Write(p []byte) (int, error) {
	<-b.stuck
	return len(p), nil
}
