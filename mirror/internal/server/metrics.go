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
// Request counts for the usual codes are plain atomics, so counting costs no
// lock under load.
type metrics struct {
	files      atomic.Int64
	bytes      atomic.Int64
	cached     atomic.Int64
	verifyNano atomic.Int64
	verified   atomic.Bool
	errors     atomic.Int64
	transient  atomic.Int64
	aborted    atomic.Int64
	open       atomic.Int64 // connections held now
	logDropped *atomic.Int64

	common [len(commonCodes)]atomic.Uint64
	mu     sync.Mutex
	other  map[int]uint64
}

var commonCodes = [...]int{200, 206, 304, 400, 404, 405, 503}

func newMetrics() *metrics { return &metrics{other: map[int]uint64{}} }

func (m *metrics) request(code int) {
	for i, c := range commonCodes {
		if c == code {
			m.common[i].Add(1)
			return
		}
	}
	m.mu.Lock()
	m.other[code]++
	m.mu.Unlock()
}

// write renders the text exposition format (version 0.0.4).
func (m *metrics) write() []byte {
	var b bytes.Buffer
	metric := func(name, typ, help string, value any) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
		if value != nil {
			fmt.Fprintf(&b, "%s %v\n", name, value)
		}
	}
	metric("offline_mirror_bundle_files", "gauge", "Files listed in the bundle's SHA256SUMS.", m.files.Load())
	metric("offline_mirror_bundle_bytes", "gauge", "Bytes of the bundle's files that were hashed.", m.bytes.Load())
	metric("offline_mirror_bundle_in_memory_bytes", "gauge", "Bytes of small files served from their verified copy in memory.", m.cached.Load())
	metric("offline_mirror_verify_seconds", "gauge", "Duration of the bundle verification at start.", strconv.FormatFloat(time.Duration(m.verifyNano.Load()).Seconds(), 'f', -1, 64))
	v := 0
	if m.verified.Load() {
		v = 1
	}
	metric("offline_mirror_verified", "gauge", "1 when the bundle matched the pinned SHA256SUMS hash and is being served.", v)
	metric("offline_mirror_requests_total", "counter", "HTTP requests answered, by status code.", nil)
	reqs := map[int]uint64{}
	for i, c := range commonCodes {
		if n := m.common[i].Load(); n > 0 {
			reqs[c] = n
		}
	}
	m.mu.Lock()
	maps.Copy(reqs, m.other)
	m.mu.Unlock()
	for _, code := range slices.Sorted(maps.Keys(reqs)) {
		fmt.Fprintf(&b, "offline_mirror_requests_total{code=\"%d\"} %d\n", code, reqs[code])
	}
	metric("offline_mirror_errors_total", "counter", "Integrity errors: bundle verification problems, and files that changed while serving.", m.errors.Load())
	metric("offline_mirror_transient_errors_total", "counter", "Requests answered 503 for a resource error of the machine (too many open files, no memory): the bundle is not in doubt.", m.transient.Load())
	metric("offline_mirror_aborted_total", "counter", "Responses cut off before their end because the content no longer matched.", m.aborted.Load())
	metric("offline_mirror_connections", "gauge", "Client connections open now.", m.open.Load())
	var dropped int64
	if m.logDropped != nil {
		dropped = m.logDropped.Load()
	}
	metric("offline_mirror_log_dropped_total", "counter", "Request log lines dropped because the log sink fell behind.", dropped)
	return b.Bytes()
}
