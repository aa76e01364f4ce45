package main

import (
	"fmt"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"time"
)

// metrics counts served requests for /metrics, in the Prometheus text
// exposition format (version 0.0.4), with the standard library only: the
// image stays small and nothing new has to cross the gap.
type metrics struct {
	mu       sync.Mutex
	started  time.Time
	requests map[requestKey]*requestStats
}

type requestKey struct {
	method string
	code   int
}

type requestStats struct {
	count   uint64
	seconds float64
}

func newMetrics(started time.Time) *metrics {
	return &metrics{started: started, requests: map[requestKey]*requestStats{}}
}

// observe records one served request.
func (m *metrics) observe(method string, code int, d time.Duration) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	k := requestKey{method, code}
	s := m.requests[k]
	if s == nil {
		s = &requestStats{}
		m.requests[k] = s
	}
	s.count++
	s.seconds += d.Seconds()
}

// ServeHTTP writes the metrics, series sorted so the output is stable.
func (m *metrics) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	m.mu.Lock()
	keys := make([]requestKey, 0, len(m.requests))
	for k := range m.requests {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b requestKey) int {
		if a.method != b.method {
			if a.method < b.method {
				return -1
			}
			return 1
		}
		return a.code - b.code
	})
	snapshot := make([]requestStats, len(keys))
	for i, k := range keys {
		snapshot[i] = *m.requests[k]
	}
	m.mu.Unlock()

	h := w.Header()
	h.Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	fmt.Fprintln(w, "# HELP hello_http_requests_total HTTP requests served, by method and status code.")
	fmt.Fprintln(w, "# TYPE hello_http_requests_total counter")
	for i, k := range keys {
		fmt.Fprintf(w, "hello_http_requests_total{method=%q,code=\"%d\"} %d\n", k.method, k.code, snapshot[i].count)
	}
	fmt.Fprintln(w, "# HELP hello_http_request_duration_seconds_total Time spent serving HTTP requests, by method and status code.")
	fmt.Fprintln(w, "# TYPE hello_http_request_duration_seconds_total counter")
	for i, k := range keys {
		fmt.Fprintf(w, "hello_http_request_duration_seconds_total{method=%q,code=\"%d\"} %s\n", k.method, k.code, strconv.FormatFloat(snapshot[i].seconds, 'g', -1, 64))
	}
	fmt.Fprintln(w, "# HELP process_start_time_seconds Start time of the process since the Unix epoch, in seconds.")
	fmt.Fprintln(w, "# TYPE process_start_time_seconds gauge")
	fmt.Fprintf(w, "process_start_time_seconds %d\n", m.started.Unix())
	fmt.Fprintln(w, "# HELP go_goroutines Number of goroutines that currently exist.")
	fmt.Fprintln(w, "# TYPE go_goroutines gauge")
	fmt.Fprintf(w, "go_goroutines %d\n", runtime.NumGoroutine())
}
