package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestMetricsCountRequests(t *testing.T) {
	s := &service{logger: slog.New(slog.NewTextHandler(io.Discard, nil)), metrics: newMetrics(time.Unix(1700000000, 0))}
	s.ready.Store(true)
	h := s.handler()
	for _, path := range []string{"/hello", "/hello", "/readyz", "/nope"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, path, nil))
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("/metrics status %d", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Fatalf("Content-Type %q", ct)
	}
	body := rec.Body.String()
	for _, want := range []string{
		"# TYPE hello_http_requests_total counter\n",
		`hello_http_requests_total{method="GET",code="200"} 3` + "\n",
		`hello_http_requests_total{method="GET",code="404"} 1` + "\n",
		"process_start_time_seconds 1700000000\n",
		"# TYPE go_goroutines gauge\n",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q:\n%s", want, body)
		}
	}
	// Every sample line is `name{labels} value` or `name value`: what Prometheus parses.
	for _, line := range strings.Split(strings.TrimSuffix(body, "\n"), "\n") {
		if strings.HasPrefix(line, "# ") {
			continue
		}
		if fields := strings.Fields(line); len(fields) != 2 {
			t.Errorf("malformed sample %q", line)
		}
	}
}
