// Command loadgen is the offline mirror benchmark's load: a bounded HTTP
// load generator for loopback, and the peer it is compared with (Go's own
// http.FileServer over the same bundle folder). Standard library only.
//
//	loadgen fileserver -dir DIR -listen 127.0.0.1:PORT
//	loadgen load -base http://127.0.0.1:PORT -paths FILE -conns 64 -duration 5s
//	loadgen idle -addr 127.0.0.1:PORT -conns 3000 -hold 3s
//
// load and idle print one JSON object on stdout. Every run is bounded in
// time (and idle in count); it only ever connects to the address it is given.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: loadgen fileserver|load|idle [flags]")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "fileserver":
		fileserver(os.Args[2:])
	case "load":
		load(os.Args[2:])
	case "idle":
		idle(os.Args[2:])
	default:
		fmt.Fprintf(os.Stderr, "loadgen: unknown mode %q\n", os.Args[1])
		os.Exit(2)
	}
}

func loopback(addr string) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil || !net.ParseIP(host).IsLoopback() {
		fmt.Fprintf(os.Stderr, "loadgen: %s is not a loopback address; refusing\n", addr)
		os.Exit(2)
	}
}

func fileserver(args []string) {
	fs := flag.NewFlagSet("fileserver", flag.ExitOnError)
	dir := fs.String("dir", "", "folder to serve")
	listen := fs.String("listen", "127.0.0.1:0", "address")
	fs.Parse(args)
	loopback(*listen)
	srv := &http.Server{Addr: *listen, Handler: http.FileServer(http.Dir(*dir)), IdleTimeout: 30 * time.Second}
	if err := srv.ListenAndServe(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// load keeps conns keep-alive clients busy for duration, each requesting the
// paths in turn, and reports requests per second and latency percentiles.
func load(args []string) {
	fs := flag.NewFlagSet("load", flag.ExitOnError)
	base := fs.String("base", "", "base URL, http://127.0.0.1:PORT")
	pathsFile := fs.String("paths", "", "file of request paths, one per line")
	conns := fs.Int("conns", 16, "concurrent connections")
	duration := fs.Duration("duration", 5*time.Second, "how long to run")
	fs.Parse(args)
	u := strings.TrimPrefix(*base, "http://")
	loopback(u)
	data, err := os.ReadFile(*pathsFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	paths := strings.Fields(string(data))
	tr := &http.Transport{MaxIdleConnsPerHost: *conns, MaxConnsPerHost: *conns, DisableCompression: true}
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	var ok, failed atomic.Int64
	lat := make([][]time.Duration, *conns)
	stop := time.Now().Add(*duration)
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < *conns; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; time.Now().Before(stop); i++ {
				t0 := time.Now()
				resp, err := client.Get(*base + paths[i%len(paths)])
				if err != nil {
					failed.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					failed.Add(1)
					continue
				}
				ok.Add(1)
				lat[w] = append(lat[w], time.Since(t0))
			}
		}(w)
	}
	wg.Wait()
	elapsed := time.Since(start)
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	slices.Sort(all)
	pct := func(p float64) float64 {
		if len(all) == 0 {
			return 0
		}
		return float64(all[min(len(all)-1, int(float64(len(all))*p))].Microseconds()) / 1000
	}
	json.NewEncoder(os.Stdout).Encode(map[string]any{
		"conns": *conns, "seconds": elapsed.Seconds(), "ok": ok.Load(), "failed": failed.Load(),
		"requestsPerSecond": float64(ok.Load()) / elapsed.Seconds(), "p50ms": pct(0.50), "p99ms": pct(0.99),
	})
}

// idle opens conns connections, makes one request on each (so each is an
// established keep-alive connection), holds them for hold, and reports how
// many got an answer.
func idle(args []string) {
	fs := flag.NewFlagSet("idle", flag.ExitOnError)
	addr := fs.String("addr", "", "127.0.0.1:PORT")
	n := fs.Int("conns", 3000, "connections")
	hold := fs.Duration("hold", 3*time.Second, "how long to hold them")
	path := fs.String("path", "/healthz", "request on each")
	fs.Parse(args)
	loopback(*addr)
	var answered, opened atomic.Int64
	conns := make([]net.Conn, 0, *n)
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	deadline := time.Now().Add(*hold + 10*time.Second)
	for i := 0; i < *n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := net.DialTimeout("tcp", *addr, 2*time.Second)
			if err != nil {
				return
			}
			opened.Add(1)
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			c.SetDeadline(time.Now().Add(500 * time.Millisecond))
			fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", *path)
			if resp, err := http.ReadResponse(bufio.NewReader(c), nil); err == nil {
				io.Copy(io.Discard, resp.Body)
				answered.Add(1)
			}
			c.SetDeadline(deadline)
		}()
	}
	wg.Wait()
	fmt.Fprintln(os.Stderr, "loadgen: holding", opened.Load(), "connections")
	time.Sleep(*hold)
	json.NewEncoder(os.Stdout).Encode(map[string]any{"attempted": *n, "opened": opened.Load(), "answered": answered.Load()})
	// The caller reads the server's RSS while this sleeps; then everything closes.
	time.Sleep(2 * time.Second)
	for _, c := range conns {
		c.Close()
	}
}
