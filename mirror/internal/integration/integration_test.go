package integration

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/airgap-go-constructs/mirror/internal/bundle"
	"github.com/airgap-go-constructs/mirror/internal/server"
	"github.com/airgap-go-constructs/mirror/internal/testlog"
)

// env is what the tests need from the machine.
type env struct {
	goBin string
	cache string // a GOMODCACHE/cache/download with hello-go's graph: an offline GOPROXY
	hello string // examples/hello-go
	sums  [][3]string
}

// prerequisites skips, saying why, when the go command, hello-go or the
// offline module cache (filled by scripts/go-modcache.sh) is missing.
func prerequisites(t *testing.T) env {
	t.Helper()
	var e env
	var err error
	if e.goBin, err = exec.LookPath("go"); err != nil {
		t.Skip("no go command in PATH")
	}
	if e.hello, err = filepath.Abs("../../../examples/hello-go"); err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile(filepath.Join(e.hello, "go.sum"))
	if err != nil {
		t.Skipf("examples/hello-go not found next to the mirror module: %v", err)
	}
	base := os.Getenv("AGC_CACHE_DIR")
	if base == "" {
		home, _ := os.UserHomeDir()
		base = filepath.Join(home, ".cache", "airgap-go-constructs")
	}
	e.cache = filepath.Join(base, "gomodcache", "cache", "download")
	for line := range strings.SplitSeq(strings.TrimSpace(string(sum)), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			t.Fatalf("go.sum line %q", line)
		}
		e.sums = append(e.sums, [3]string{f[0], f[1], f[2]})
		v, isMod := strings.CutSuffix(f[1], "/go.mod")
		file := v + ".zip"
		if isMod {
			file = v + ".mod"
		}
		if _, err := os.Stat(filepath.Join(e.cache, f[0], "@v", file)); err != nil {
			t.Skipf("offline module cache lacks %s@%s (run scripts/go-modcache.sh once, with network): %v", f[0], v, err)
		}
	}
	return e
}

// goEnv isolates go from the caller's settings and the user's go env file.
func goEnv(extra ...string) []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "GOFLAGS", "GOPROXY", "GOSUMDB", "GONOSUMDB", "GONOSUMCHECK", "GOPRIVATE", "GONOPROXY",
			"GOINSECURE", "GOPATH", "GOMODCACHE", "GOWORK", "GOTOOLCHAIN", "GOENV":
			continue
		}
		out = append(out, kv)
	}
	return append(append(out, "GOENV=off", "GOTOOLCHAIN=local"), extra...)
}

// clientEnv is an air-gapped go: only the mirror, an empty module cache,
// and checksum verification on (GOSUMDB left at its default).
func clientEnv(t *testing.T, mirror string) []string {
	gp := t.TempDir()
	return goEnv("GOPROXY="+mirror+",off", "GOPATH="+gp, "GOMODCACHE="+filepath.Join(gp, "mod"), "GOFLAGS=-mod=mod -modcacherw")
}

type logWriter struct{ t *testing.T }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func buildBundle(t *testing.T, e env, out string, goenv []string) string {
	t.Helper()
	hash, err := bundle.Build(context.Background(), bundle.Options{
		Out: out, ModuleDirs: []string{e.hello}, Go: e.goBin, Env: goenv, Log: logWriter{t},
	})
	if err != nil {
		t.Fatal(err)
	}
	return hash
}

// startMirror serves dir in-process on 127.0.0.1 after verifying it.
func startMirror(t *testing.T, dir, hash string) (string, *server.Server, *testlog.Buffer) {
	t.Helper()
	logs := &testlog.Buffer{}
	access := server.NewAccessLog(logs, 1024)
	logs.Settle = access.Flush
	s := server.New(server.Config{Bundle: dir, Pinned: hash, Logger: slog.New(slog.NewJSONHandler(logs, nil)), AccessLog: access})
	s.Verify(context.Background())
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return ts.URL, s, logs
}

func runGo(ctx context.Context, t *testing.T, e env, dir string, goenv []string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.CommandContext(ctx, e.goBin, args...)
	cmd.Dir = dir
	cmd.Env = goenv
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// copyTree copies regular files, skipping top-level names in skip.
func copyTree(t *testing.T, src, dst string, skip ...string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if slices.Contains(skip, rel) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func get(t *testing.T, url string) (int, string, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(body)
}

// TestBundleServeBuild is the air gap in miniature, with the checksum
// database off at bundling time as the project's offline cache has it.
func TestBundleServeBuild(t *testing.T) {
	t.Parallel()
	e := prerequisites(t)
	bundleEnv := goEnv("GOPROXY=file://"+e.cache, "GOSUMDB=off", "GOFLAGS=-mod=mod")
	b1 := filepath.Join(t.TempDir(), "b1")
	hash := buildBundle(t, e, b1, bundleEnv)

	b2 := filepath.Join(t.TempDir(), "b2")
	if h2 := buildBundle(t, e, b2, bundleEnv); h2 != hash {
		t.Errorf("not deterministic: %s vs %s", hash, h2)
	}
	for _, f := range []string{"SHA256SUMS", "manifest.json"} {
		x, _ := os.ReadFile(filepath.Join(b1, f))
		y, _ := os.ReadFile(filepath.Join(b2, f))
		if !bytes.Equal(x, y) {
			t.Errorf("%s differs between two runs", f)
		}
	}
	var m bundle.Manifest
	data, _ := os.ReadFile(filepath.Join(b1, "manifest.json"))
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(m.Modules, func(x bundle.Module) bool {
		return x.Path == "golang.org/x/text" && x.Version == "v0.43.0" && slices.Equal(x.Files, []string{"info", "mod", "zip"})
	}) || !slices.Equal(m.MainModules, []string{"github.com/airgap-go-constructs/examples/hello-go"}) {
		t.Errorf("manifest:\n%s", data)
	}
	for _, bad := range []string{".lock", ".ziphash", ".partial"} {
		if bytes.Contains(must(os.ReadFile(filepath.Join(b1, "SHA256SUMS"))), []byte(bad+"\n")) {
			t.Errorf("bundle has %s files", bad)
		}
	}

	t.Run("go build through the mirror", func(t *testing.T) {
		url, s, logs := startMirror(t, b1, hash)
		if !s.Ready() {
			t.Fatalf("not ready:\n%s", logs)
		}
		if code, ct, body := get(t, url+"/golang.org/x/text/@latest"); code != 200 || ct != "application/json" || !strings.Contains(body, `"v0.43.0"`) {
			t.Errorf("@latest: %d %s %s", code, ct, body)
		}
		src := t.TempDir()
		copyTree(t, e.hello, src, "vendor")
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		out, err := runGo(ctx, t, e, src, clientEnv(t, url), "build", "-trimpath", "-o", filepath.Join(t.TempDir(), "hello"), ".")
		if err != nil {
			t.Fatalf("go build: %v\n%s\nmirror log:\n%s", err, out, logs)
		}
		if !strings.Contains(logs.String(), `"path":"/golang.org/x/text/@v/v0.43.0.zip","status":200`) {
			t.Errorf("x/text was not fetched from the mirror:\n%s", logs)
		}
	})

	t.Run("module missing from the bundle", func(t *testing.T) {
		bm := filepath.Join(t.TempDir(), "bm")
		copyTree(t, b1, bm, filepath.Join("golang.org", "x", "text"))
		hm, err := bundle.Seal(context.Background(), bm, 0)
		if err != nil {
			t.Fatal(err)
		}
		url, s, logs := startMirror(t, bm, hm)
		if !s.Ready() {
			t.Fatalf("resealed bundle not ready:\n%s", logs)
		}
		// With ",off" (as in the task's client setup) go's error is about
		// the fallback; with the mirror alone it quotes the 404 and our body.
		for _, tc := range []struct{ proxy, want string }{
			{url + ",off", "module lookup disabled by GOPROXY=off"},
			{url, "golang.org/x/text@v0.43.0: reading " + url + "/golang.org/x/text/@v/v0.43.0.zip: 404 Not Found\n\tserver response: not in this offline bundle"},
		} {
			src := t.TempDir()
			copyTree(t, e.hello, src, "vendor")
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			goenv := append(clientEnv(t, url), "GOPROXY="+tc.proxy)
			out, err := runGo(ctx, t, e, src, goenv, "build", "-trimpath", "-o", filepath.Join(t.TempDir(), "hello"), ".")
			timedOut := ctx.Err() != nil
			cancel()
			if timedOut {
				t.Fatalf("GOPROXY=%s: go build did not finish within 60 s:\n%s", tc.proxy, out)
			}
			if err == nil {
				t.Fatalf("GOPROXY=%s: go build succeeded without golang.org/x/text", tc.proxy)
			}
			if !strings.Contains(out, "golang.org/x/text") || !strings.Contains(out, tc.want) {
				t.Errorf("GOPROXY=%s: want go's own error containing %q, got:\n%s", tc.proxy, tc.want, out)
			}
			t.Logf("GOPROXY=%s: go build failed as expected:\n%s", tc.proxy, out)
		}
	})

	t.Run("flipped byte", func(t *testing.T) {
		bf := filepath.Join(t.TempDir(), "bf")
		copyTree(t, b1, bf)
		zip := filepath.Join(bf, "golang.org", "x", "text", "@v", "v0.43.0.zip")
		data := must(os.ReadFile(zip))
		data[len(data)/2] ^= 0x01
		os.WriteFile(zip, data, 0o644)
		url, s, logs := startMirror(t, bf, hash)
		if s.Ready() {
			t.Fatal("tampered bundle is ready")
		}
		for path, want := range map[string]int{"/readyz": 503, "/healthz": 200, "/golang.org/x/text/@v/list": 503, "/golang.org/x/sync/@v/v0.24.0.mod": 503} {
			if code, _, _ := get(t, url+path); code != want {
				t.Errorf("GET %s = %d, want %d", path, code, want)
			}
		}
		var named bool
		sc := bufio.NewScanner(strings.NewReader(logs.String()))
		for sc.Scan() {
			var entry map[string]any
			json.Unmarshal(sc.Bytes(), &entry)
			named = named || entry["file"] == "golang.org/x/text/@v/v0.43.0.zip" && strings.HasPrefix(entry["reason"].(string), "sha256 mismatch")
		}
		if !named {
			t.Errorf("log does not name the bad file:\n%s", logs)
		}
		src := t.TempDir()
		copyTree(t, e.hello, src, "vendor")
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		if out, err := runGo(ctx, t, e, src, clientEnv(t, url), "build", "-o", os.DevNull, "."); err == nil || !strings.Contains(out, "503 Service Unavailable") {
			t.Errorf("go build through an unready mirror: %v\n%s", err, out)
		}
	})
}

// TestChecksumDatabaseThroughMirror bundles with the checksum database on,
// as the connected side does, from a recorded copy of what the sum.golang.org
// proxy served for hello-go's graph (testdata/sumdbproxy), then has go verify
// modules that are not in any go.sum through the mirror, one at a time from
// an empty sumdb state: the order in which an offline client looks modules
// up must not matter.
func TestChecksumDatabaseThroughMirror(t *testing.T) {
	t.Parallel()
	e := prerequisites(t)
	fixture, _ := filepath.Abs("testdata/sumdbproxy")
	for _, s := range e.sums {
		v := strings.TrimSuffix(s[1], "/go.mod")
		if _, err := os.Stat(filepath.Join(fixture, "sumdb", "sum.golang.org", "lookup", s[0]+"@"+v)); err != nil {
			t.Skipf("testdata/sumdbproxy does not cover %s@%s of hello-go's go.sum; re-record it from a bundle made with network (see README.md)", s[0], v)
		}
	}
	// The first proxy has the modules, the second the checksum database.
	bundleEnv := goEnv("GOPROXY=file://"+e.cache+",file://"+fixture, "GOSUMDB=sum.golang.org", "GOFLAGS=-mod=mod")
	b := filepath.Join(t.TempDir(), "b")
	hash := buildBundle(t, e, b, bundleEnv)

	var m bundle.Manifest
	if err := json.Unmarshal(must(os.ReadFile(filepath.Join(b, "manifest.json"))), &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Sumdb) != 1 || m.Sumdb[0].Host != "sum.golang.org" || m.Sumdb[0].Lookups != len(m.Modules) || m.Sumdb[0].TreeSize == 0 {
		t.Fatalf("manifest sumdb: %+v", m.Sumdb)
	}
	// The bundle holds exactly what the recording holds (it was recorded
	// from a bundle): the unified lookups, the latest note, and only the
	// tiles that the latest tree needs.
	if got, want := listFiles(t, filepath.Join(b, "sumdb")), listFiles(t, filepath.Join(fixture, "sumdb")); !slices.Equal(got, slices.DeleteFunc(want, func(s string) bool { return s == "sum.golang.org/supported" })) {
		t.Errorf("bundle sumdb/ = %q\nwant %q", got, want)
	}

	url, s, logs := startMirror(t, b, hash)
	if !s.Ready() {
		t.Fatalf("not ready:\n%s", logs)
	}
	if code, _, _ := get(t, url+"/sumdb/sum.golang.org/supported"); code != 200 {
		t.Fatalf("supported: %d", code)
	}
	for _, mod := range m.Modules {
		t.Run(mod.Path, func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/m\n"), 0o644)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			out, err := runGo(ctx, t, e, dir, clientEnv(t, url), "mod", "download", "-json", mod.Path+"@"+mod.Version)
			if err != nil {
				t.Fatalf("go mod download: %v\n%s", err, out)
			}
			var got struct{ Sum, GoModSum string }
			json.Unmarshal([]byte(out), &got)
			for _, s := range e.sums {
				if s[0] == mod.Path && (s[1] == mod.Version && s[2] != got.Sum || s[1] == mod.Version+"/go.mod" && s[2] != got.GoModSum) {
					t.Errorf("%s %s: got %+v, go.sum has %s", s[0], s[1], got, s[2])
				}
			}
		})
	}
	if !strings.Contains(logs.String(), `"path":"/sumdb/sum.golang.org/lookup/golang.org/x/text@v0.43.0","status":200`) {
		t.Errorf("no checksum database lookup went through the mirror:\n%s", logs)
	}
	if strings.Contains(logs.String(), `"status":404`) {
		t.Errorf("the mirror lacked something go asked for:\n%s", logs)
	}
}

func listFiles(t *testing.T, dir string) []string {
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return err
	})
	slices.Sort(out)
	return out
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
