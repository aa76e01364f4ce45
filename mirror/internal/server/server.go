// Package server serves a verified bundle as a Go module proxy (with the
// checksum database proxied under /sumdb/) and as plain files under /files/.
// It fails closed: until the bundle has been verified against the pinned
// hash of its SHA256SUMS, and forever after any integrity problem, every
// content request gets 503 while /healthz keeps answering, so the operator
// can read why in the logs and metrics instead of chasing a restart loop.
//
// It serves only what it verified: small files from the verified bytes held
// in memory, large ones hashed again while they stream, the response cut off
// before its last bytes if the content no longer matches. A transient
// resource error (too many open files) answers 503 for that request only;
// liveness fails when such errors go on with nothing served for too long, so
// Kubernetes restarts a wedged server.
package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/airgap-go-constructs/mirror/internal/verify"
)

// Config of a Server.
type Config struct {
	Bundle  string       // bundle directory
	Pinned  string       // sha256 of SHA256SUMS, lower-case hex
	Logger  *slog.Logger // JSON to stderr in production; request lines go through AccessLog
	Workers int          // hashing workers; <= 0: one per CPU
	// AccessLog receives one line per request, off the request path; nil logs nothing.
	AccessLog *AccessLog
	// SmallFileMax is the largest file kept in memory and served from its
	// verified bytes; larger files are re-hashed as they stream. 0 means
	// DefaultSmallFileMax, a negative value keeps nothing in memory.
	SmallFileMax int64
	// SmallCacheBudget bounds the memory those files take; 0 means DefaultSmallCacheBudget.
	SmallCacheBudget int64
	// WriteTimeout is how long one write to a client may take before the
	// connection is dropped (a per-write progress deadline); 0 means DefaultWriteTimeout.
	WriteTimeout time.Duration
	// WedgeAfter is how long transient errors may go on with nothing served
	// before /healthz fails; 0 means DefaultWedgeAfter.
	WedgeAfter time.Duration
}

// Defaults of Config.
const (
	DefaultSmallFileMax     = 64 << 10
	DefaultSmallCacheBudget = 32 << 20
	DefaultWriteTimeout     = 30 * time.Second
	DefaultWedgeAfter       = 60 * time.Second
	// logPathMax bounds a logged path, so a 64 KiB request path does not make a 64 KB log line.
	logPathMax = 256
)

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
	// transientSince is when transient errors began with nothing served since (unix nanos; 0: none).
	transientSince atomic.Int64
	now            func() time.Time
	// afterChunk, when set (by tests only), runs after each chunk of a
	// streamed file is read from disk: it lets a test change the file at a
	// known point of the download instead of racing the socket buffers.
	afterChunk func(read int64)
}

// index is what may be served, built once from the verified file list: a
// request can only ever reach a file that was listed and hashed.
type index struct {
	files  map[string]*entry
	latest map[string]*entry // escaped module path -> .info of its latest version
	sumdb  map[string]bool   // checksum database hosts present in the bundle
}

// entry is one servable file: its verified identity and, when small, its verified bytes.
type entry struct {
	file *verify.File
	id   identity
	etag string
	data []byte // nil: stream and re-hash
}

// identity is what a file's fstat must still say: a rename-swap changes the
// inode, an in-place rewrite with the mtime put back still changes ctime.
type identity struct {
	dev, ino, nlink uint64
	size            int64
	mtime, ctime    int64
}

func identityOf(info os.FileInfo) identity {
	id := identity{size: info.Size(), mtime: info.ModTime().UnixNano()}
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		id.dev, id.ino, id.nlink = uint64(st.Dev), uint64(st.Ino), uint64(st.Nlink)
		id.ctime = time.Unix(st.Ctim.Unix()).UnixNano()
	}
	return id
}

// New returns a Server in the verifying state.
func New(cfg Config) *Server {
	if cfg.SmallFileMax == 0 {
		cfg.SmallFileMax = DefaultSmallFileMax
	}
	if cfg.SmallCacheBudget == 0 {
		cfg.SmallCacheBudget = DefaultSmallCacheBudget
	}
	if cfg.WriteTimeout == 0 {
		cfg.WriteTimeout = DefaultWriteTimeout
	}
	if cfg.WedgeAfter == 0 {
		cfg.WedgeAfter = DefaultWedgeAfter
	}
	s := &Server{cfg: cfg, log: cfg.Logger, metrics: newMetrics(), now: time.Now}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if cfg.AccessLog != nil {
		s.metrics.logDropped = &cfg.AccessLog.dropped
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
		if idx, p = s.buildIndex(res.Files); p != nil {
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
	s.log.Info("bundle verified", "bundle", s.cfg.Bundle, "files", res.Listed, "bytes", res.Bytes, "in_memory_bytes", s.metrics.cached.Load(),
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

// readVerified reads a file whole and returns its bytes only if they still
// hash to the verified sum: these are the bytes served from then on.
func readVerified(f *verify.File) ([]byte, *verify.Problem) {
	data, err := os.ReadFile(f.RealPath)
	if err != nil {
		return nil, &verify.Problem{Path: f.Path, Reason: "unreadable: " + err.Error()}
	}
	if verify.HashBytes(data) != f.Sum {
		return nil, &verify.Problem{Path: f.Path, Reason: "changed since verification"}
	}
	return data, nil
}

func (s *Server) buildIndex(files []verify.File) (*index, *verify.Problem) {
	idx := &index{files: map[string]*entry{}, latest: map[string]*entry{}, sumdb: map[string]bool{}}
	budget := s.cfg.SmallCacheBudget
	for i := range files {
		f := &files[i]
		e := &entry{file: f, id: identityOf(f.Info), etag: `"` + hex.EncodeToString(f.Sum[:]) + `"`}
		if s.cfg.SmallFileMax > 0 && f.Size <= s.cfg.SmallFileMax && f.Size <= budget {
			data, p := readVerified(f)
			if p != nil {
				return nil, p
			}
			e.data = data
			budget -= f.Size
			s.metrics.cached.Add(f.Size)
		}
		idx.files[f.Path] = e
		if rest, ok := strings.CutPrefix(f.Path, "sumdb/"); ok {
			if host, _, ok := strings.Cut(rest, "/"); ok {
				idx.sumdb[host] = true
			}
		}
	}
	for _, e := range idx.files {
		mod, ok := strings.CutSuffix(e.file.Path, "/@v/list")
		if !ok || strings.HasPrefix(e.file.Path, "sumdb/") || strings.HasPrefix(e.file.Path, "files/") {
			continue
		}
		data := e.data
		if data == nil {
			// Read again, and check again: this content picks what @latest serves.
			var p *verify.Problem
			if data, p = readVerified(e.file); p != nil {
				return nil, p
			}
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
	start := s.now()
	rec := &recorder{ResponseWriter: w, status: http.StatusOK}
	aborted := true
	defer func() {
		if aborted {
			// A response cut off on purpose (content changed while streaming): count
			// and log it, then let net/http drop the connection.
			s.metrics.aborted.Add(1)
			rec.status = 0
			s.logRequest(r, rec, start)
		}
	}()
	if r.Method == http.MethodHead {
		s.serve(headWriter{rec}, r)
	} else {
		s.serve(rec, r)
	}
	aborted = false
	s.metrics.request(rec.status)
	s.logRequest(r, rec, start)
}

func (s *Server) logRequest(r *http.Request, rec *recorder, start time.Time) {
	if s.cfg.AccessLog != nil {
		path := r.URL.EscapedPath()
		if len(path) > logPathMax {
			path = path[:logPathMax] + "…(" + strconv.Itoa(len(path)) + " bytes)"
		}
		s.cfg.AccessLog.Log(AccessEntry{Time: start, Method: r.Method, Path: path, Status: rec.status, Bytes: rec.bytes, Duration: s.now().Sub(start), Remote: r.RemoteAddr})
	}
}

// Live reports whether the server should be left running: false once
// transient errors have gone on, with nothing served, for WedgeAfter.
func (s *Server) Live() (bool, string) {
	since := s.transientSince.Load()
	if since == 0 {
		return true, ""
	}
	if d := s.now().Sub(time.Unix(0, since)); d >= s.cfg.WedgeAfter {
		return false, fmt.Sprintf("wedged: only transient errors (such as too many open files) for %s", d.Round(time.Second))
	}
	return true, ""
}

func (s *Server) served() {
	if s.transientSince.Load() != 0 {
		s.transientSince.Store(0)
	}
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		text(w, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	switch r.URL.EscapedPath() {
	case "/healthz":
		if ok, why := s.Live(); !ok {
			text(w, http.StatusServiceUnavailable, why)
			return
		}
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
	var e *entry
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
		e = idx.latest[mod]
	} else {
		e = idx.files[rel]
	}
	if e == nil {
		// 404 is what tells `go` "no such module or version" at once; go
		// quotes this body in its error ("server response: ...").
		text(w, http.StatusNotFound, "not in this offline bundle: "+rel)
		return
	}
	h := w.Header()
	h.Set("Content-Type", contentType(rel))
	h.Set("ETag", e.etag)
	h.Set("X-Content-Type-Options", "nosniff")
	if e.data != nil {
		// The verified bytes themselves: whatever happens on disk now, this is what was checked.
		s.deadline(w)
		http.ServeContent(w, r, "", e.file.Info.ModTime(), bytes.NewReader(e.data))
		s.served()
		return
	}
	s.stream(w, r, e)
}

// deadline gives the next write WriteTimeout to complete.
func (s *Server) deadline(w http.ResponseWriter) {
	http.NewResponseController(w).SetWriteDeadline(s.now().Add(s.cfg.WriteTimeout))
}

// stream sends a large file whole, hashing it as it goes, and holds the last
// chunk back until the hash is known: content that no longer matches is cut
// off before its end (the client sees a truncated response, never a
// complete wrong one) and the server stops serving.
func (s *Server) stream(w http.ResponseWriter, r *http.Request, e *entry) {
	fh, err := os.Open(e.file.RealPath)
	if err != nil {
		if transient(err) {
			s.transient(w, e.file.Path, err)
			return
		}
		s.integrity(w, e.file.Path, "cannot open: "+err.Error())
		return
	}
	defer fh.Close()
	info, err := fh.Stat()
	if err != nil {
		s.transient(w, e.file.Path, err)
		return
	}
	if got := identityOf(info); got != e.id {
		s.integrity(w, e.file.Path, "changed since verification (inode, size, mtime, ctime or link count differ)")
		return
	}
	if match := r.Header.Get("If-None-Match"); match != "" && strings.Contains(match, e.etag) {
		w.WriteHeader(http.StatusNotModified)
		s.served()
		return
	}
	w.Header().Set("Content-Length", strconv.FormatInt(e.file.Size, 10))
	w.Header().Set("Last-Modified", e.file.Info.ModTime().UTC().Format(http.TimeFormat))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		s.served()
		return
	}
	h := sha256.New()
	buf := make([]byte, 256<<10)
	var held []byte
	var n int64
	for {
		k, rerr := io.ReadFull(fh, buf)
		if k > 0 {
			h.Write(buf[:k])
			n += int64(k)
			if held != nil {
				s.deadline(w)
				if _, err := w.Write(held); err != nil {
					return // the client went away, or stalled past the deadline
				}
			}
			held = append(held[:0], buf[:k]...)
			if s.afterChunk != nil {
				s.afterChunk(n)
			}
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			s.integrity(w, e.file.Path, "read error while serving: "+rerr.Error())
			panic(http.ErrAbortHandler)
		}
	}
	if n != e.file.Size || [sha256.Size]byte(h.Sum(nil)) != e.file.Sum {
		s.metrics.errors.Add(1)
		s.log.Error("bundle file rejected", "file", e.file.Path, "reason", "content changed while serving: response cut off")
		s.fail("bundle changed after verification: " + e.file.Path)
		panic(http.ErrAbortHandler)
	}
	s.deadline(w)
	w.Write(held)
	s.served()
}

// transient reports whether an error is the machine's, not the bundle's:
// out of file descriptors, memory or buffers, or interrupted.
func transient(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) || errors.Is(err, syscall.ENOMEM) ||
		errors.Is(err, syscall.ENOBUFS) || errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EINTR)
}

// transient answers 503 for this request only: the bundle is not in doubt.
func (s *Server) transient(w http.ResponseWriter, file string, err error) {
	s.metrics.transient.Add(1)
	s.transientSince.CompareAndSwap(0, s.now().UnixNano())
	s.log.Warn("transient error", "file", file, "error", err.Error())
	w.Header().Set("Retry-After", "1")
	text(w, http.StatusServiceUnavailable, "temporarily unavailable: "+err.Error())
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

// recorder captures status and size for the log and metrics.
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

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// headWriter drops bodies for HEAD, which net/http would discard anyway,
// so that the handler's own answers stay correct outside net/http too.
type headWriter struct{ http.ResponseWriter }

func (h headWriter) Write(p []byte) (int, error) { return len(p), nil }

func (h headWriter) Unwrap() http.ResponseWriter { return h.ResponseWriter }
