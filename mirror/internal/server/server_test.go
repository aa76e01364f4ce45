package server

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/airgap-go-constructs/mirror/internal/testlog"
	"github.com/airgap-go-constructs/mirror/internal/verify"
)

var testFiles = map[string]string{
	"manifest.json":                     "{}\n",
	"golang.org/x/text/@v/list":         "v0.42.0\nv0.43.0\nv0.44.0-rc.1\nv0.45.0\n",
	"golang.org/x/text/@v/v0.42.0.info": `{"Version":"v0.42.0"}`,
	"golang.org/x/text/@v/v0.43.0.info": `{"Version":"v0.43.0"}`,
	"golang.org/x/text/@v/v0.43.0.mod":  "module golang.org/x/text\n",
	"golang.org/x/text/@v/v0.43.0.zip":  strings.Repeat("zip", 1000),
	// v0.44.0-rc.1 and v0.45.0 are listed without .info: @latest skips them.
	"golang.org/x/text/@v/v0.44.0-rc.1.info":                `{"Version":"v0.44.0-rc.1"}`,
	"example.com/pre/@v/list":                               "v0.0.0-20240101000000-abcdefabcdef\nv0.1.0-alpha\n",
	"example.com/pre/@v/v0.1.0-alpha.info":                  `{"Version":"v0.1.0-alpha"}`,
	"sumdb/sum.golang.org/latest":                           "go.sum database tree\n10\nhash\n\n— sig\n",
	"sumdb/sum.golang.org/lookup/golang.org/x/text@v0.43.0": "1\nline\n\nnote\n",
	"sumdb/sum.golang.org/tile/8/0/000.p/10":                "tiledata",
	"files/go1.26.8.linux-amd64.tar.gz":                     "tarball",
}

func writeBundle(t *testing.T, files map[string]string) (string, string) {
	t.Helper()
	dir := t.TempDir()
	var sums []verify.Sum
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		sums = append(sums, verify.Sum{Path: name, Hash: sha256.Sum256([]byte(content))})
	}
	data := verify.FormatSums(sums)
	os.WriteFile(filepath.Join(dir, verify.SumsName), data, 0o644)
	h := sha256.Sum256(data)
	return dir, hex.EncodeToString(h[:])
}

// newServer returns a verified server over testFiles (after mutate) and
// its log.
func newServer(t *testing.T, mutate func(dir string)) (*Server, *testlog.Buffer, string) {
	return newServerWith(t, Config{}, testFiles, mutate)
}

// newServerWith is newServer with more of the config, and other files.
func newServerWith(t *testing.T, cfg Config, files map[string]string, mutate func(dir string)) (*Server, *testlog.Buffer, string) {
	t.Helper()
	dir, pinned := writeBundle(t, files)
	if mutate != nil {
		mutate(dir)
	}
	logs := &testlog.Buffer{}
	access := NewAccessLog(logs, 1024)
	logs.Settle = access.Flush
	cfg.Bundle, cfg.Pinned, cfg.Logger, cfg.Workers, cfg.AccessLog = dir, pinned, slog.New(slog.NewJSONHandler(logs, nil)), 2, access
	s := New(cfg)
	s.Verify(context.Background())
	return s, logs, dir
}

func do(s http.Handler, method, target string, hdr ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	return w
}

func TestBundlePath(t *testing.T) {
	for _, tc := range []struct {
		raw, rel, why string
	}{
		{"/golang.org/x/text/@v/list", "golang.org/x/text/@v/list", ""},
		{"/github.com/!burnt!sushi/toml/@v/v1.0.0+incompatible.info", "github.com/!burnt!sushi/toml/@v/v1.0.0+incompatible.info", ""},
		{"/sumdb/sum.golang.org/lookup/golang.org/x/text@v0.43.0", "sumdb/sum.golang.org/lookup/golang.org/x/text@v0.43.0", ""},
		{"/files/a%41", "files/aA", ""}, // harmless encoding is decoded
		{"/../etc/passwd", "", "dot segment in path"},
		{"/a/../../etc/passwd", "", "dot segment in path"},
		{"/a/./b", "", "dot segment in path"},
		{"/%2e%2e/etc/passwd", "", "dot segment in path"},
		{"/%2E%2E/etc/passwd", "", "dot segment in path"},
		{"/a/%2e%2e/%2e%2e/x", "", "dot segment in path"},
		{"/.%2e/x", "", "dot segment in path"},
		{"/a%2fb", "", "encoded slash in path"},
		{"/a%2F..%2Fb", "", "encoded slash in path"},
		{"/a%5c..%5cb", "", "backslash in path"},
		{`/a\..\b`, "", "backslash in path"},
		{"/a%00b", "", "control character in path"},
		{"/a%0ab", "", "control character in path"},
		{"//etc/passwd", "", "absolute path"},
		{"/a//b", "", "empty path segment"},
		{"/a/", "", "empty path segment"},
		{"/", "", "empty path"},
	} {
		u, err := url.ParseRequestURI(tc.raw)
		if err != nil {
			t.Fatalf("%q: %v", tc.raw, err)
		}
		rel, why := bundlePath(u)
		if rel != tc.rel || why != tc.why {
			t.Errorf("bundlePath(%q) = %q, %q; want %q, %q", tc.raw, rel, why, tc.rel, tc.why)
		}
	}
	if _, why := bundlePath(&url.URL{Opaque: "x"}); why == "" {
		t.Error("opaque URL accepted")
	}
}

func TestBadPathsOverHTTP(t *testing.T) {
	s, _, _ := newServer(t, nil)
	for _, target := range []string{"/../manifest.json", "/%2e%2e/manifest.json", "/files%2fgo1.26.8.linux-amd64.tar.gz", "/files%5cx", "/a%00"} {
		if w := do(s, "GET", target); w.Code != http.StatusBadRequest {
			t.Errorf("GET %s = %d, want 400", target, w.Code)
		}
	}
	// SHA256SUMS is not listed in itself, so it is not served.
	if w := do(s, "GET", "/SHA256SUMS"); w.Code != http.StatusNotFound {
		t.Errorf("GET /SHA256SUMS = %d", w.Code)
	}
}

func TestMethods(t *testing.T) {
	s, _, _ := newServer(t, nil)
	for _, tc := range []struct {
		method, target string
		code           int
	}{
		{"GET", "/golang.org/x/text/@v/v0.43.0.mod", 200},
		{"HEAD", "/golang.org/x/text/@v/v0.43.0.mod", 200},
		{"POST", "/golang.org/x/text/@v/v0.43.0.mod", 405},
		{"PUT", "/golang.org/x/text/@v/v0.43.0.mod", 405},
		{"DELETE", "/golang.org/x/text/@v/v0.43.0.mod", 405},
		{"PATCH", "/golang.org/x/text/@v/v0.43.0.mod", 405},
		{"OPTIONS", "/golang.org/x/text/@v/v0.43.0.mod", 405},
		{"POST", "/healthz", 405},
		{"DELETE", "/metrics", 405},
		{"HEAD", "/healthz", 200},
		{"HEAD", "/readyz", 200},
	} {
		w := do(s, tc.method, tc.target)
		if w.Code != tc.code {
			t.Errorf("%s %s = %d, want %d", tc.method, tc.target, w.Code, tc.code)
		}
		if tc.code == 405 && w.Header().Get("Allow") != "GET, HEAD" {
			t.Errorf("%s %s: Allow = %q", tc.method, tc.target, w.Header().Get("Allow"))
		}
		if tc.method == "HEAD" && w.Body.Len() != 0 {
			t.Errorf("HEAD %s has a body", tc.target)
		}
	}
}

func TestContentTypesAndBodies(t *testing.T) {
	s, _, _ := newServer(t, nil)
	for _, tc := range []struct {
		target, ctype, body string
		code                int
	}{
		{"/golang.org/x/text/@v/v0.43.0.info", "application/json", `{"Version":"v0.43.0"}`, 200},
		{"/golang.org/x/text/@latest", "application/json", `{"Version":"v0.43.0"}`, 200},
		{"/example.com/pre/@latest", "application/json", `{"Version":"v0.1.0-alpha"}`, 200},
		{"/golang.org/x/text/@v/v0.43.0.mod", "text/plain; charset=utf-8", "module golang.org/x/text\n", 200},
		{"/golang.org/x/text/@v/list", "text/plain; charset=utf-8", testFiles["golang.org/x/text/@v/list"], 200},
		{"/golang.org/x/text/@v/v0.43.0.zip", "application/zip", testFiles["golang.org/x/text/@v/v0.43.0.zip"], 200},
		{"/manifest.json", "application/json", "{}\n", 200},
		{"/files/go1.26.8.linux-amd64.tar.gz", "application/octet-stream", "tarball", 200},
		{"/sumdb/sum.golang.org/supported", "text/plain; charset=utf-8", "", 200},
		{"/sumdb/sum.golang.org/latest", "text/plain; charset=utf-8", testFiles["sumdb/sum.golang.org/latest"], 200},
		{"/sumdb/sum.golang.org/lookup/golang.org/x/text@v0.43.0", "text/plain; charset=utf-8", "1\nline\n\nnote\n", 200},
		{"/sumdb/sum.golang.org/tile/8/0/000.p/10", "application/octet-stream", "tiledata", 200},
		// Go's proxy protocol: 404 means "no such module/version".
		{"/sumdb/sum.example.org/supported", "text/plain; charset=utf-8", "not found\n", 404},
		{"/golang.org/x/text/@v/v9.9.9.info", "text/plain; charset=utf-8", "not in this offline bundle: golang.org/x/text/@v/v9.9.9.info\n", 404},
		{"/golang.org/x/nope/@v/list", "text/plain; charset=utf-8", "not in this offline bundle: golang.org/x/nope/@v/list\n", 404},
		{"/golang.org/x/nope/@latest", "text/plain; charset=utf-8", "not in this offline bundle: golang.org/x/nope/@latest\n", 404},
		{"/", "text/plain; charset=utf-8", "bad path: empty path\n", 400},
	} {
		w := do(s, "GET", tc.target)
		if w.Code != tc.code || w.Header().Get("Content-Type") != tc.ctype || w.Body.String() != tc.body {
			t.Errorf("GET %s = %d %q %q; want %d %q %q", tc.target, w.Code, w.Header().Get("Content-Type"), w.Body.String(), tc.code, tc.ctype, tc.body)
		}
	}
}

func TestContentTypeTable(t *testing.T) {
	for rel, want := range map[string]string{
		"a.b/m/@v/v1.0.0.info": "application/json",
		"a.b/m/@latest":        "application/json",
		"a.b/m/@v/v1.0.0.mod":  "text/plain; charset=utf-8",
		"a.b/m/@v/list":        "text/plain; charset=utf-8",
		"a.b/m/@v/v1.0.0.zip":  "application/zip",
		"sumdb/sum.golang.org/lookup/a.b/m@v1.0.0-x.zip": "text/plain; charset=utf-8",
		"sumdb/sum.golang.org/tile/8/0/001":              "application/octet-stream",
		"files/x.tar.gz":                                 "application/octet-stream",
	} {
		if got := contentType(rel); got != want {
			t.Errorf("contentType(%q) = %q, want %q", rel, got, want)
		}
	}
}

func TestLatestVersion(t *testing.T) {
	for _, tc := range []struct {
		list []string
		want string
	}{
		{[]string{"v1.0.0", "v1.2.0", "v1.10.0", "v1.9.9"}, "v1.10.0"},
		{[]string{"v1.0.0", "v2.0.0-rc.1"}, "v1.0.0"}, // release over pre-release
		{[]string{"v2.0.0-rc.1", "v2.0.0-rc.2", "v2.0.0-beta"}, "v2.0.0-rc.2"},
		{[]string{"v0.0.0-20240101000000-abcdefabcdef", "v0.0.0-20250101000000-abcdefabcdef"}, "v0.0.0-20250101000000-abcdefabcdef"},
		{[]string{"v1.0.0-alpha", "v1.0.0-alpha.1", "v1.0.0-alpha.beta", "v1.0.0-beta.2", "v1.0.0-beta.11"}, "v1.0.0-beta.11"},
		{[]string{"v1.0.0-1", "v1.0.0-a"}, "v1.0.0-a"}, // numeric < alphanumeric
		{[]string{"v2.0.0+incompatible", "v1.5.0"}, "v2.0.0+incompatible"},
		{[]string{"garbage", "v1", "1.0.0", "v01.0.0", "v1.0.0-01", "v1.0.0"}, "v1.0.0"},
		{[]string{"v10000000000000000000000.0.0", "v9.0.0"}, "v10000000000000000000000.0.0"},
		{nil, ""},
		{[]string{"bad"}, ""},
	} {
		got, ok := latestVersion(tc.list)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("latestVersion(%q) = %q, %v; want %q", tc.list, got, ok, tc.want)
		}
	}
}

func TestConditionalAndRange(t *testing.T) {
	s, _, _ := newServer(t, nil)
	w := do(s, "GET", "/golang.org/x/text/@v/v0.43.0.zip")
	etag := w.Header().Get("ETag")
	sum := sha256.Sum256([]byte(testFiles["golang.org/x/text/@v/v0.43.0.zip"]))
	if etag != `"`+hex.EncodeToString(sum[:])+`"` {
		t.Fatalf("ETag = %q", etag)
	}
	if w := do(s, "GET", "/golang.org/x/text/@v/v0.43.0.zip", "If-None-Match", etag); w.Code != http.StatusNotModified {
		t.Errorf("If-None-Match: %d", w.Code)
	}
	if w := do(s, "GET", "/golang.org/x/text/@v/v0.43.0.zip", "Range", "bytes=0-2"); w.Code != http.StatusPartialContent || w.Body.String() != "zip" {
		t.Errorf("Range: %d %q", w.Code, w.Body.String())
	}
}

func TestStates(t *testing.T) {
	flip := func(dir string) {
		p := filepath.Join(dir, "golang.org/x/text/@v/v0.43.0.zip")
		data, _ := os.ReadFile(p)
		data[0] ^= 0x20
		os.WriteFile(p, data, 0o644)
	}
	for _, tc := range []struct {
		name                     string
		setup                    func(t *testing.T) (*Server, *testlog.Buffer)
		healthz, readyz, content int
		verified                 string
		logs                     []string
	}{
		{"verifying", func(t *testing.T) (*Server, *testlog.Buffer) {
			return New(Config{Bundle: t.TempDir(), Pinned: strings.Repeat("0", 64)}), &testlog.Buffer{}
		}, 200, 503, 503, "0", nil},
		{"verified", func(t *testing.T) (*Server, *testlog.Buffer) {
			s, logs, _ := newServer(t, nil)
			return s, logs
		}, 200, 200, 200, "1", []string{`"msg":"bundle verified"`}},
		{"flipped byte", func(t *testing.T) (*Server, *testlog.Buffer) {
			s, logs, _ := newServer(t, flip)
			return s, logs
		}, 200, 503, 503, "0", []string{`"file":"golang.org/x/text/@v/v0.43.0.zip","reason":"sha256 mismatch`, `"msg":"bundle verification failed: not serving"`}},
		{"wrong pin", func(t *testing.T) (*Server, *testlog.Buffer) {
			dir, _ := writeBundle(t, testFiles)
			logs := &testlog.Buffer{}
			s := New(Config{Bundle: dir, Pinned: strings.Repeat("0", 64), Logger: slog.New(slog.NewJSONHandler(logs, nil))})
			s.Verify(context.Background())
			return s, logs
		}, 200, 503, 503, "0", []string{`"file":"SHA256SUMS","reason":"sha256 `}},
		{"symlink out", func(t *testing.T) (*Server, *testlog.Buffer) {
			s, logs, _ := newServer(t, func(dir string) {
				os.Symlink("/etc/passwd", filepath.Join(dir, "files/passwd"))
			})
			return s, logs
		}, 200, 503, 503, "0", []string{`"file":"files/passwd","reason":"symlink escapes the bundle`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, logs := tc.setup(t)
			if w := do(s, "GET", "/healthz"); w.Code != tc.healthz {
				t.Errorf("healthz = %d", w.Code)
			}
			// readyz is checked before the content request, which may be
			// what trips the server.
			if w := do(s, "GET", "/readyz"); w.Code != tc.readyz {
				t.Errorf("readyz = %d %q", w.Code, w.Body.String())
			}
			target := "/files/go1.26.8.linux-amd64.tar.gz"
			if w := do(s, "GET", target); w.Code != tc.content {
				t.Errorf("GET %s = %d", target, w.Code)
			}
			if tc.content != 200 {
				for _, p := range []string{"/golang.org/x/text/@v/list", "/no/such/@v/list", "/sumdb/sum.golang.org/supported"} {
					if w := do(s, "GET", p); w.Code != 503 {
						t.Errorf("GET %s = %d, want 503", p, w.Code)
					}
				}
				if w := do(s, "GET", "/readyz"); w.Code != 503 {
					t.Errorf("readyz after failure = %d", w.Code)
				}
			}
			if m := do(s, "GET", "/metrics").Body.String(); !strings.Contains(m, "\noffline_mirror_verified "+tc.verified+"\n") {
				t.Errorf("metrics: %s", m)
			}
			for _, want := range tc.logs {
				if !strings.Contains(logs.String(), want) {
					t.Errorf("log lacks %s:\n%s", want, logs)
				}
			}
		})
	}
}

func TestMetricsFormat(t *testing.T) {
	s, _, _ := newServer(t, nil)
	do(s, "GET", "/golang.org/x/text/@v/list")
	do(s, "GET", "/nope/@v/list")
	do(s, "POST", "/healthz")
	w := do(s, "GET", "/metrics")
	if ct := w.Header().Get("Content-Type"); ct != "text/plain; version=0.0.4; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	body := w.Body.String()
	sample := regexp.MustCompile(`^(offline_mirror_[a-z_]+)(\{code="[0-9]{3}"\})? ([0-9.e+-]+)$`)
	typed := map[string]bool{}
	seen := map[string]string{}
	for _, line := range strings.Split(strings.TrimSuffix(body, "\n"), "\n") {
		if f, ok := strings.CutPrefix(line, "# TYPE "); ok {
			name, typ, _ := strings.Cut(f, " ")
			if typ != "gauge" && typ != "counter" {
				t.Errorf("type %q", line)
			}
			typed[name] = true
			continue
		}
		if strings.HasPrefix(line, "# HELP ") {
			continue
		}
		m := sample.FindStringSubmatch(line)
		if m == nil {
			t.Errorf("bad sample line %q", line)
			continue
		}
		if !typed[m[1]] {
			t.Errorf("%s has no TYPE before it", m[1])
		}
		seen[m[1]+m[2]] = m[3]
	}
	for k, v := range map[string]string{
		"offline_mirror_bundle_files":                 "13",
		"offline_mirror_verified":                     "1",
		"offline_mirror_requests_total{code=\"200\"}": "1",
		"offline_mirror_requests_total{code=\"404\"}": "1",
		"offline_mirror_requests_total{code=\"405\"}": "1",
		"offline_mirror_errors_total":                 "0",
	} {
		if seen[k] != v {
			t.Errorf("%s = %q, want %q\n%s", k, seen[k], v, body)
		}
	}
	if seen["offline_mirror_bundle_bytes"] == "0" || seen["offline_mirror_verify_seconds"] == "" {
		t.Errorf("bytes/seconds missing:\n%s", body)
	}
}

func TestRequestLog(t *testing.T) {
	s, logs, _ := newServer(t, nil)
	before := strings.Count(logs.String(), "\n")
	r := httptest.NewRequest("GET", "/golang.org/x/text/@v/v0.43.0.mod", nil)
	r.RemoteAddr = "192.0.2.1:1234"
	s.ServeHTTP(httptest.NewRecorder(), r)
	lines := strings.Split(strings.TrimSuffix(logs.String(), "\n"), "\n")
	if len(lines) != before+1 {
		t.Fatalf("want exactly one log line per request, got %d", len(lines)-before)
	}
	var entry map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &entry); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]any{"msg": "request", "method": "GET", "path": "/golang.org/x/text/@v/v0.43.0.mod", "status": 200.0, "bytes": 25.0, "remote": "192.0.2.1:1234"} {
		if entry[k] != v {
			t.Errorf("%s = %v, want %v", k, entry[k], v)
		}
	}
	if _, ok := entry["duration_ms"].(float64); !ok {
		t.Errorf("duration_ms missing: %v", entry)
	}
}

// TestOverRealHTTP exercises sendfile through the recorder and HEAD sizes.
func TestOverRealHTTP(t *testing.T) {
	s, logs, _ := newServer(t, nil)
	ts := httptest.NewServer(s)
	defer ts.Close()
	resp, err := http.Get(ts.URL + "/golang.org/x/text/@v/v0.43.0.zip")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != testFiles["golang.org/x/text/@v/v0.43.0.zip"] {
		t.Fatalf("body %d bytes", len(body))
	}
	resp, err = http.Head(ts.URL + "/golang.org/x/text/@v/v0.43.0.zip")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.ContentLength != 3000 {
		t.Errorf("HEAD Content-Length %d", resp.ContentLength)
	}
	deadline := time.Now().Add(2 * time.Second)
	for !strings.Contains(logs.String(), `"bytes":3000`) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	sc := bufio.NewScanner(strings.NewReader(logs.String()))
	found := false
	for sc.Scan() {
		found = found || strings.Contains(sc.Text(), `"status":200,"bytes":3000`)
	}
	if !found {
		t.Errorf("no log line with the zip's size:\n%s", logs)
	}
}
