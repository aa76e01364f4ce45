package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestRequestLog(t *testing.T) {
	var buf bytes.Buffer
	h := (&service{logger: newLogger(&buf, "json", slog.LevelInfo)}).handler()

	requests := []struct {
		method, target string
		wantStatus     int
		wantBytes      int64
	}{
		{"GET", "/healthz", 200, 3},
		{"GET", "/readyz", 503, 10},
		{"GET", "/hello?name=Ada", 200, 12},
		{"HEAD", "/hello?name=Ada", 200, 0},
		{"GET", "/hello?name=%07", 400, 54},
		{"DELETE", "/healthz", 405, 19},
		{"GET", "/missing", 404, 19},
	}
	for _, r := range requests {
		req := httptest.NewRequest(r.method, r.target, nil)
		req.Header.Set("User-Agent", "kube-probe/1.33")
		req.RemoteAddr = "10.0.0.7:41234"
		h.ServeHTTP(httptest.NewRecorder(), req)
	}

	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != len(requests) {
		t.Fatalf("got %d log lines for %d requests:\n%s", len(lines), len(requests), buf.String())
	}
	for i, line := range lines {
		r := requests[i]
		var entry struct {
			Time       *string  `json:"time"`
			Level      string   `json:"level"`
			Msg        string   `json:"msg"`
			Method     string   `json:"method"`
			Path       string   `json:"path"`
			Status     int      `json:"status"`
			Bytes      *int64   `json:"bytes"`
			DurationMS *float64 `json:"duration_ms"`
			RemoteAddr string   `json:"remote_addr"`
			UserAgent  string   `json:"user_agent"`
		}
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields() // no field beyond these, the query in particular
		if err := dec.Decode(&entry); err != nil {
			t.Fatalf("line %d is not the expected JSON object: %v\n%s", i, err, line)
		}
		wantPath, _, _ := strings.Cut(r.target, "?")
		switch {
		case entry.Time == nil, entry.Bytes == nil, entry.DurationMS == nil:
			t.Errorf("line %d lacks time, bytes or duration_ms: %s", i, line)
		case entry.Level != "INFO" || entry.Msg != "request":
			t.Errorf("line %d: level %q msg %q, want INFO request", i, entry.Level, entry.Msg)
		case entry.Method != r.method || entry.Path != wantPath || entry.Status != r.wantStatus:
			t.Errorf("line %d: %s %s %d, want %s %s %d", i, entry.Method, entry.Path, entry.Status, r.method, wantPath, r.wantStatus)
		case *entry.Bytes != r.wantBytes:
			t.Errorf("line %d (%s %s): bytes %d, want %d", i, r.method, r.target, *entry.Bytes, r.wantBytes)
		case *entry.DurationMS < 0:
			t.Errorf("line %d: negative duration_ms %v", i, *entry.DurationMS)
		case entry.RemoteAddr != "10.0.0.7:41234" || entry.UserAgent != "kube-probe/1.33":
			t.Errorf("line %d: remote_addr %q user_agent %q", i, entry.RemoteAddr, entry.UserAgent)
		}
	}
	if strings.Contains(buf.String(), "Ada") {
		t.Error("the log holds the name from the query string")
	}
}

func TestResponseRecorder(t *testing.T) {
	tests := []struct {
		name       string
		handler    http.HandlerFunc
		wantStatus int
		wantBytes  int64
	}{
		{"writes nothing", func(w http.ResponseWriter, r *http.Request) {}, 200, 0},
		{"body without WriteHeader", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "abc") }, 200, 3},
		{"explicit status", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusCreated) }, 201, 0},
		{"second WriteHeader is ignored", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusAccepted)
			w.WriteHeader(http.StatusInternalServerError)
		}, 202, 0},
		{"informational status before the final one", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusEarlyHints)
			w.WriteHeader(http.StatusTeapot)
			_, _ = io.WriteString(w, "short and stout")
		}, 418, 15},
		{"ResponseController reaches the real writer", func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, "x")
			if err := http.NewResponseController(w).Flush(); err != nil {
				w.WriteHeader(http.StatusInternalServerError)
			}
		}, 200, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			// A real server: httptest.ResponseRecorder does not model 1xx responses.
			srv := httptest.NewServer(logRequests(newLogger(&buf, "json", slog.LevelInfo), nil, tt.handler))
			resp, err := srv.Client().Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			srv.Close() // waits for the handler, and so for the log line

			var entry struct {
				Status int   `json:"status"`
				Bytes  int64 `json:"bytes"`
			}
			sc := bufio.NewScanner(&buf)
			if !sc.Scan() {
				t.Fatal("no log line")
			}
			if err := json.Unmarshal(sc.Bytes(), &entry); err != nil {
				t.Fatal(err)
			}
			if entry.Status != tt.wantStatus || entry.Bytes != tt.wantBytes {
				t.Errorf("logged status %d bytes %d, want %d %d", entry.Status, entry.Bytes, tt.wantStatus, tt.wantBytes)
			}
			if entry.Status != resp.StatusCode {
				t.Errorf("logged status %d, but the client got %d", entry.Status, resp.StatusCode)
			}
			if sc.Scan() {
				t.Errorf("more than one log line: %q", sc.Text())
			}
		})
	}
}

func TestLogLevelFiltersRequests(t *testing.T) {
	var buf bytes.Buffer
	h := (&service{logger: newLogger(&buf, "text", slog.LevelWarn)}).handler()
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/healthz", nil))
	if buf.Len() != 0 {
		t.Errorf("request logged at level warn: %q", buf.String())
	}
}
