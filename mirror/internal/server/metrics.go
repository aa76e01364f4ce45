package server

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// metrics is a hand-written Prometheus exposition: the module is standard
// library only, and a handful of gauges and counters do not need a client.
type metrics struct {
	files      atomic.Int64
	bytes      atomic.Int64
	verifyNano atomic.Int64
	verified   atomic.Bool
	errors     atomic.Int64

	mu       sync.Mutex
	requests map[int]uint64 // by status code
}

func newMetrics() *metrics { return &metrics{requests: map[int]uint64{}} }

func (m *metrics) request(code int) {
	m.mu.Lock()
	m.requests[code]++
	m.mu.Unlock()
}

// write renders the text exposition format (version 0.0.4).
func (m *metrics) write() []byte {
	var b bytes.Buffer
	metric := func(name, typ, help string) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
	}
	metric("offline_mirror_bundle_files", "gauge", "Files listed in the bundle's SHA256SUMS.")
	fmt.Fprintf(&b, "offline_mirror_bundle_files %d\n", m.files.Load())
	metric("offline_mirror_bundle_bytes", "gauge", "Bytes of the bundle's files that were hashed.")
	fmt.Fprintf(&b, "offline_mirror_bundle_bytes %d\n", m.bytes.Load())
	metric("offline_mirror_verify_seconds", "gauge", "Duration of the bundle verification at start.")
	fmt.Fprintf(&b, "offline_mirror_verify_seconds %s\n",
		strconv.FormatFloat(time.Duration(m.verifyNano.Load()).Seconds(), 'f', -1, 64))
	metric("offline_mirror_verified", "gauge", "1 when the bundle matched the pinned SHA256SUMS hash and is being served.")
	v := 0
	if m.verified.Load() {
		v = 1
	}
	fmt.Fprintf(&b, "offline_mirror_verified %d\n", v)
	metric("offline_mirror_requests_total", "counter", "HTTP requests answered, by status code.")
	m.mu.Lock()
	reqs := maps.Clone(m.requests)
	m.mu.Unlock()
	for _, code := range slices.Sorted(maps.Keys(reqs)) {
		fmt.Fprintf(&b, "offline_mirror_requests_total{code=\"%d\"} %d\n", code, reqs[code])
	}
	metric("offline_mirror_errors_total", "counter", "Integrity and I/O errors: bundle verification problems, and files that changed or failed to open while serving.")
	fmt.Fprintf(&b, "offline_mirror_errors_total %d\n", m.errors.Load())
	return b.Bytes()
}
