package main

// Resource exhaustion, bounded: the real binary on loopback, under a low
// file-descriptor limit, with slow, idle and too many clients, and a stalled
// client at SIGTERM. Every loop has a fixed count and a deadline.

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/airgap-go-constructs/mirror/internal/verify"
)

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

func mirrorBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary; skipped with -short")
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "offline-mirror-bin-")
		if err != nil {
			buildErr = err
			return
		}
		os.Chmod(dir, 0o755)
		builtBin = filepath.Join(dir, "offline-mirror")
		cmd := exec.Command("go", "build", "-trimpath", "-o", builtBin, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("%v: %s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

// bigBundle is a bundle with one file of size bytes, served by streaming.
func bigBundle(t *testing.T, size int) (dir, pin string) {
	dir = t.TempDir()
	content := []byte(strings.Repeat("x", size))
	os.MkdirAll(filepath.Join(dir, "files"), 0o755)
	os.WriteFile(filepath.Join(dir, "files/big.bin"), content, 0o644)
	os.WriteFile(filepath.Join(dir, "manifest.json"), []byte("{}\n"), 0o644)
	sums := verify.FormatSums([]verify.Sum{{Path: "files/big.bin", Hash: sha256.Sum256(content)}, {Path: "manifest.json", Hash: sha256.Sum256([]byte("{}\n"))}})
	os.WriteFile(filepath.Join(dir, verify.SumsName), sums, 0o644)
	h := sha256.Sum256(sums)
	return dir, hex.EncodeToString(h[:])
}

type running struct {
	cmd    *exec.Cmd
	addr   string
	stderr *lockedBuffer
	done   chan error
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// start runs the binary (through prefix, such as prlimit) on a free loopback port and waits until it is ready.
func start(t *testing.T, prefix []string, dir, pin string, flags ...string) *running {
	t.Helper()
	bin := mirrorBinary(t)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	args := append(append(append([]string(nil), prefix...), bin, "-bundle", dir, "-sha256sums-hash", pin, "-listen", addr), flags...)
	cmd := exec.Command(args[0], args[1:]...)
	r := &running{cmd: cmd, addr: addr, stderr: &lockedBuffer{}, done: make(chan error, 1)}
	cmd.Stderr = r.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.done <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill(); <-r.done })
	deadline := time.Now().Add(15 * time.Second)
	for r.status(t, "/readyz") != 200 {
		if time.Now().After(deadline) {
			t.Fatalf("never ready:\n%s", r.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return r
}

// status is one request on a fresh connection, or -1 when none could be made.
func (r *running) status(t *testing.T, path string) int {
	c := http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get("http://" + r.addr + path)
	if err != nil {
		return -1
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

var sample = regexp.MustCompile(`(?m)^(offline_mirror_[a-z_]+)(\{[^}]*\})? ([0-9.e+-]+)$`)

func (r *running) metric(t *testing.T, name string) int64 {
	c := http.Client{Timeout: 3 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get("http://" + r.addr + "/metrics")
	if err != nil {
		t.Fatalf("metrics: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, m := range sample.FindAllStringSubmatch(string(body), -1) {
		if m[1]+m[2] == name {
			v, _ := strconv.ParseFloat(m[3], 64)
			return int64(v)
		}
	}
	t.Fatalf("no %s in\n%s", name, body)
	return 0
}

// waitMetric polls until the metric satisfies ok, for at most d.
func (r *running) waitMetric(t *testing.T, name string, d time.Duration, ok func(int64) bool) int64 {
	deadline := time.Now().Add(d)
	for {
		v := r.metric(t, name)
		if ok(v) || time.Now().After(deadline) {
			return v
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Out of file descriptors (prlimit --nofile=64 and 80 idle connections): the
// requests that cannot open a file get 503, counted as transient; the server
// stays ready, and serves again once the connections are gone.
func TestOutOfFileDescriptorsIsTransient(t *testing.T) {
	dir, pin := bigBundle(t, 1<<20)
	r := start(t, []string{"prlimit", "--nofile=64"}, dir, pin, "-small-file-max", "-1", "-max-connections", "1000", "-idle-timeout", "30s")
	var conns []net.Conn
	for i := 0; i < 80; i++ {
		c, err := net.DialTimeout("tcp", r.addr, time.Second)
		if err != nil {
			break
		}
		conns = append(conns, c)
	}
	// On every connection the server took, ask for the streamed file: past the
	// limit, opening it fails with EMFILE.
	codes := map[int]int{}
	for _, c := range conns {
		c.SetDeadline(time.Now().Add(500 * time.Millisecond))
		fmt.Fprintf(c, "GET /files/big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			codes[-1]++
			continue
		}
		codes[resp.StatusCode]++
	}
	t.Logf("responses while out of file descriptors: %v", codes)
	if codes[503] == 0 {
		t.Fatalf("no request met the fd limit: %v", codes)
	}
	for _, c := range conns {
		c.Close()
	}
	if got := r.waitMetric(t, "offline_mirror_transient_errors_total", 5*time.Second, func(v int64) bool { return v > 0 }); got == 0 {
		t.Fatal("transient errors not counted")
	}
	if r.metric(t, "offline_mirror_errors_total") != 0 || r.metric(t, "offline_mirror_verified") != 1 {
		t.Fatalf("an fd limit counted as an integrity failure:\n%s", r.stderr)
	}
	deadline := time.Now().Add(10 * time.Second)
	for r.status(t, "/files/big.bin") != 200 {
		if time.Now().After(deadline) {
			t.Fatalf("did not serve again after the burst:\n%s", r.stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if r.status(t, "/readyz") != 200 || r.status(t, "/healthz") != 200 {
		t.Fatal("not ready or not live after the burst")
	}
}

// A client that stops reading is dropped at the per-write deadline.
func TestSlowReaderIsDropped(t *testing.T) {
	dir, pin := bigBundle(t, 64<<20)
	r := start(t, nil, dir, pin, "-small-file-max", "-1", "-write-timeout", "1s")
	c, err := net.Dial("tcp", r.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.(*net.TCPConn).SetReadBuffer(4096)
	fmt.Fprintf(c, "GET /files/big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
	time.Sleep(200 * time.Millisecond)
	if n := r.metric(t, "offline_mirror_connections"); n < 2 {
		t.Fatalf("the slow reader is not connected (%d)", n)
	}
	// It reads nothing; after the deadline the server closes its side.
	if n := r.waitMetric(t, "offline_mirror_connections", 10*time.Second, func(v int64) bool { return v <= 1 }); n > 1 {
		t.Fatalf("the stalled reader still holds a connection after 10 s (%d open)", n)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	got, _ := io.Copy(io.Discard, c)
	if got >= 64<<20 {
		t.Fatalf("the stalled reader got the whole file (%d bytes)", got)
	}
}

// Idle keep-alive connections are closed after the idle timeout.
func TestIdleConnectionsAreClosed(t *testing.T) {
	dir, pin := bigBundle(t, 1024)
	r := start(t, nil, dir, pin, "-idle-timeout", "1s")
	var conns []net.Conn
	for i := 0; i < 20; i++ {
		c, err := net.Dial("tcp", r.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "GET /manifest.json HTTP/1.1\r\nHost: x\r\n\r\n")
		if resp, err := http.ReadResponse(bufio.NewReader(c), nil); err != nil || resp.StatusCode != 200 {
			t.Fatalf("%v", err)
		}
		conns = append(conns, c)
	}
	if n := r.waitMetric(t, "offline_mirror_connections", 5*time.Second, func(v int64) bool { return v <= 1 }); n > 1 {
		t.Fatalf("%d connections still open after the idle timeout", n)
	}
	for _, c := range conns {
		c.SetReadDeadline(time.Now().Add(time.Second))
		if _, err := c.Read(make([]byte, 1)); err != io.EOF {
			t.Fatalf("an idle connection was not closed by the server: %v", err)
		}
	}
}

// At most -max-connections are open; the next waits until one closes.
func TestConnectionCap(t *testing.T) {
	dir, pin := bigBundle(t, 1024)
	r := start(t, nil, dir, pin, "-max-connections", "4", "-idle-timeout", "30s")
	// /readyz polling above used and closed its connections; take all four slots.
	var held []net.Conn
	for i := 0; i < 4; i++ {
		c, _ := net.Dial("tcp", r.addr)
		defer c.Close()
		fmt.Fprintf(c, "GET /manifest.json HTTP/1.1\r\nHost: x\r\n\r\n")
		http.ReadResponse(bufio.NewReader(c), nil)
		held = append(held, c)
	}
	extra, _ := net.Dial("tcp", r.addr)
	defer extra.Close()
	fmt.Fprintf(extra, "GET /manifest.json HTTP/1.1\r\nHost: x\r\n\r\n")
	extra.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	if _, err := http.ReadResponse(bufio.NewReader(extra), nil); err == nil {
		t.Fatal("a fifth connection was served while four were open")
	}
	held[0].Close()
	extra.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(extra), nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("the waiting connection was not served once a slot freed: %v", err)
	}
}

// SIGTERM with a stalled client: the server waits the shutdown timeout,
// closes what is left, and exits 0.
func TestShutdownWithAStalledClient(t *testing.T) {
	dir, pin := bigBundle(t, 64<<20)
	r := start(t, nil, dir, pin, "-small-file-max", "-1", "-write-timeout", "60s", "-shutdown-timeout", "1s")
	c, _ := net.Dial("tcp", r.addr)
	defer c.Close()
	c.(*net.TCPConn).SetReadBuffer(4096)
	fmt.Fprintf(c, "GET /files/big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
	time.Sleep(200 * time.Millisecond)
	t0 := time.Now()
	r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-r.done:
		r.done <- err
		if err != nil {
			t.Fatalf("exit: %v\n%s", err, r.stderr)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no exit 10 s after SIGTERM")
	}
	if d := time.Since(t0); d > 5*time.Second {
		t.Fatalf("took %v", d)
	}
	if !strings.Contains(r.stderr.String(), "closed connections still open at the shutdown deadline") {
		t.Fatalf("log:\n%s", r.stderr)
	}
}
