// Package server serves a verified bundle as a Go module proxy (with the
// checksum database proxied under /sumdb/) and as plain files under /files/.
// It fails closed: until the bundle has been verified against the pinned
// hash of its SHA256SUMS, and forever after any integrity problem, every
// content request gets 503 while /healthz keeps answering, so the operator
// can read why in the logs and metrics instead of chasing a restart loop.
package server

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/airgap-go-constructs/mirror/internal/verify"
)

// Config of a Server.
type Config struct {
	Bundle  string       // bundle directory
	Pinned  string       // sha256 of SHA256SUMS, lower-case hex
	Logger  *slog.Logger // JSON to stderr in production
	Workers int          // hashing workers; <= 0: one per CPU
}

const (
	stateVerifying int32 = iota
	stateReady
	stateFailed
)

// Server is the HTTP handler. Create it with New, then call Verify (the
// handler answers 503 for content until Verify has succeeded).
type Server struct {
	cfg     Config
	log     *slog.Logger
	state   atomic.Int32
	reason  atomic.Pointer[string] // why not ready
	idx     atomic.Pointer[index]
	metrics *metrics
}

// index is what may be served, built once from the verified file list: a
// request can only ever reach a file that was listed and hashed.
type index struct {
	files  map[string]*verify.File
	latest map[string]*verify.File // escaped module path -> .info of its latest version
	sumdb  map[string]bool         // checksum database hosts present in the bundle
}

// New returns a Server in the verifying state.
func New(cfg Config) *Server {
	s := &Server{cfg: cfg, log: cfg.Logger, metrics: newMetrics()}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.setReason("bundle verification in progress")
	return s
}

func (s *Server) setReason(r string) { s.reason.Store(&r) }

// Ready reports whether the bundle is verified and being served.
func (s *Server) Ready() bool { return s.state.Load() == stateReady }

// Verify checks the bundle and, if it is intact, starts serving it. It
// returns whether the server is ready; on failure it logs every problem.
func (s *Server) Verify(ctx context.Context) bool {
	s.log.Info("verifying bundle", "bundle", s.cfg.Bundle)
	res, err := verify.Verify(ctx, s.cfg.Bundle, s.cfg.Pinned, s.cfg.Workers)
	s.metrics.files.Store(int64(res.Listed))
	s.metrics.bytes.Store(res.Bytes)
	s.metrics.verifyNano.Store(int64(res.Elapsed))
	if err != nil {
		s.fail("bundle verification interrupted: " + err.Error())
		return false
	}
	for _, p := range res.Problems {
		s.log.Error("bundle file rejected", "file", p.Path, "reason", p.Reason)
	}
	var idx *index
	n := len(res.Problems)
	if n == 0 {
		var p *verify.Problem
		if idx, p = buildIndex(res.Files); p != nil {
			s.log.Error("bundle file rejected", "file", p.Path, "reason", p.Reason)
			n++
		}
	}
	if n > 0 {
		s.metrics.errors.Add(int64(n))
		s.log.Error("bundle verification failed: not serving", "bundle", s.cfg.Bundle, "problems", n,
			"sha256sums_hash", res.SumsHash, "pinned", s.cfg.Pinned)
		s.fail(fmt.Sprintf("bundle verification failed: %d problem(s), see the logs", n))
		return false
	}
	s.idx.Store(idx)
	if !s.state.CompareAndSwap(stateVerifying, stateReady) {
		return false
	}
	s.metrics.verified.Store(true)
	s.setReason("")
	secs := res.Elapsed.Seconds()
	s.log.Info("bundle verified", "bundle", s.cfg.Bundle, "files", res.Listed, "bytes", res.Bytes,
		"seconds", secs, "mib_per_second", float64(res.Bytes)/(1<<20)/max(secs, 1e-9), "sha256sums_hash", res.SumsHash)
	return true
}

// fail is one-way: once the bundle is in doubt, only a restart (and a new
// verification) can make the server ready again.
func (s *Server) fail(reason string) {
	s.state.Store(stateFailed)
	s.metrics.verified.Store(false)
	s.setReason(reason)
}

func buildIndex(files []verify.File) (*index, *verify.Problem) {
	idx := &index{files: map[string]*verify.File{}, latest: map[string]*verify.File{}, sumdb: map[string]bool{}}
	for i := range files {
		f := &files[i]
		idx.files[f.Path] = f
		if rest, ok := strings.CutPrefix(f.Path, "sumdb/"); ok {
			if host, _, ok := strings.Cut(rest, "/"); ok {
				idx.sumdb[host] = true
			}
		}
	}
	for _, f := range idx.files {
		mod, ok := strings.CutSuffix(f.Path, "/@v/list")
		if !ok || strings.HasPrefix(f.Path, "sumdb/") || strings.HasPrefix(f.Path, "files/") {
			continue
		}
		// Read again, and check again: this content is served under
		// another name, so it must be exactly what was verified.
		data, err := os.ReadFile(f.RealPath)
		if err != nil {
			return nil, &verify.Problem{Path: f.Path, Reason: "unreadable: " + err.Error()}
		}
		if verify.HashBytes(data) != f.Sum {
			return nil, &verify.Problem{Path: f.Path, Reason: "changed since verification"}
		}
		var have []string
		for _, v := range strings.Split(string(data), "\n") {
			if v = strings.TrimSpace(v); v != "" && idx.files[mod+"/@v/"+v+".info"] != nil {
				have = append(have, v)
			}
		}
		if v, ok := latestVersion(have); ok {
			idx.latest[mod] = idx.files[mod+"/@v/"+v+".info"]
		}
	}
	return idx, nil
}

// ServeHTTP answers, counts and logs one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &recorder{ResponseWriter: w, status: http.StatusOK}
	if r.Method == http.MethodHead {
		s.serve(headWriter{rec}, r)
	} else {
		s.serve(rec, r)
	}
	s.metrics.request(rec.status)
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
		slog.String("method", r.Method),
		slog.String("path", r.URL.EscapedPath()),
		slog.Int("status", rec.status),
		slog.Int64("bytes", rec.bytes),
		slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
		slog.String("remote", r.RemoteAddr))
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		text(w, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	switch r.URL.EscapedPath() {
	case "/healthz":
		text(w, http.StatusOK, "ok")
		return
	case "/readyz":
		if s.Ready() {
			text(w, http.StatusOK, "ready")
		} else {
			text(w, http.StatusServiceUnavailable, "not ready: "+*s.reason.Load())
		}
		return
	case "/metrics":
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		w.Write(s.metrics.write())
		return
	}
	idx := s.idx.Load()
	if !s.Ready() || idx == nil {
		text(w, http.StatusServiceUnavailable, "not ready: "+*s.reason.Load())
		return
	}
	rel, why := bundlePath(r.URL)
	if why != "" {
		text(w, http.StatusBadRequest, "bad path: "+why)
		return
	}
	var f *verify.File
	if rest, ok := strings.CutPrefix(rel, "sumdb/"); ok && strings.Count(rest, "/") == 1 && strings.HasSuffix(rest, "/supported") {
		// Go's proxy protocol for the checksum database: a 200 here makes
		// `go` fetch lookups and tiles through us, never directly.
		if idx.sumdb[strings.TrimSuffix(rest, "/supported")] {
			text(w, http.StatusOK, "")
		} else {
			text(w, http.StatusNotFound, "not found")
		}
		return
	} else if mod, ok := strings.CutSuffix(rel, "/@latest"); ok {
		f = idx.latest[mod]
	} else {
		f = idx.files[rel]
	}
	if f == nil {
		// 404 is what tells `go` "no such module or version" at once; go
		// quotes this body in its error ("server response: ...").
		text(w, http.StatusNotFound, "not in this offline bundle: "+rel)
		return
	}
	s.serveFile(w, r, rel, f)
}

func (s *Server) serveFile(w http.ResponseWriter, r *http.Request, rel string, f *verify.File) {
	fh, err := os.Open(f.RealPath)
	if err != nil {
		s.integrity(w, f.Path, "cannot open: "+err.Error())
		return
	}
	defer fh.Close()
	info, err := fh.Stat()
	if err != nil || !os.SameFile(info, f.Info) || info.Size() != f.Size || !info.ModTime().Equal(f.Info.ModTime()) {
		s.integrity(w, f.Path, "changed since verification (inode, size or mtime differ)")
		return
	}
	h := w.Header()
	h.Set("Content-Type", contentType(rel))
	h.Set("ETag", `"`+hex.EncodeToString(f.Sum[:])+`"`)
	h.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, "", f.Info.ModTime(), fh)
}

// integrity reacts to a bundle file that is no longer what was verified:
// the whole bundle is in doubt, so stop serving any of it.
func (s *Server) integrity(w http.ResponseWriter, file, reason string) {
	s.metrics.errors.Add(1)
	s.log.Error("bundle file rejected", "file", file, "reason", reason)
	s.fail("bundle changed after verification: " + file)
	text(w, http.StatusServiceUnavailable, "not ready: bundle changed after verification")
}

func text(w http.ResponseWriter, code int, body string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	if body != "" {
		io.WriteString(w, body+"\n")
	}
}

// recorder captures status and size for the log and metrics. It keeps
// ReadFrom so that http.ServeContent can still use sendfile.
type recorder struct {
	http.ResponseWriter
	status      int
	bytes       int64
	wroteHeader bool
}

func (r *recorder) WriteHeader(code int) {
	if !r.wroteHeader && code >= 200 {
		r.status, r.wroteHeader = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(p []byte) (int, error) {
	r.wroteHeader = true
	n, err := r.ResponseWriter.Write(p)
	r.bytes += int64(n)
	return n, err
}

func (r *recorder) ReadFrom(src io.Reader) (int64, error) {
	r.wroteHeader = true
	n, err := io.Copy(r.ResponseWriter, src)
	r.bytes += n
	return n, err
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// headWriter drops bodies for HEAD, which net/http would discard anyway,
// so that the handler's own answers stay correct outside net/http too.
type headWriter struct{ http.ResponseWriter }

func (h headWriter) Write(p []byte) (int, error) { return len(p), nil }
