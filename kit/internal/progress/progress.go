// Package progress reports long copies: a live line (bytes, rate, ETA) on a
// terminal, plain lines otherwise, and JSON lines for pipelines.
package progress

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// Mode is how progress is shown.
type Mode int

const (
	// Plain writes one line per step.
	Plain Mode = iota
	// Terminal redraws one line as bytes move.
	Terminal
	// JSON writes one JSON object per event.
	JSON
)

// Detect picks Terminal when w is a character device, else Plain.
func Detect(w *os.File) Mode {
	if st, err := w.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
		return Terminal
	}
	return Plain
}

// Reporter writes progress to one stream.
type Reporter struct {
	mu    sync.Mutex
	w     io.Writer
	mode  Mode
	now   func() time.Time
	task  string
	total int64
	done  int64
	start time.Time
	last  time.Time
}

// New makes a reporter.
func New(w io.Writer, mode Mode) *Reporter {
	return &Reporter{w: w, mode: mode, now: time.Now}
}

// Event is what JSON mode writes.
type Event struct {
	Event   string  `json:"event"`
	Task    string  `json:"task,omitempty"`
	Item    string  `json:"item,omitempty"`
	Bytes   int64   `json:"bytes,omitempty"`
	Total   int64   `json:"total,omitempty"`
	Seconds float64 `json:"seconds,omitempty"`
	Message string  `json:"message,omitempty"`
}

func (r *Reporter) emit(e Event) {
	b, _ := json.Marshal(e)
	fmt.Fprintf(r.w, "%s\n", b)
}

// Begin starts a task that moves total bytes.
func (r *Reporter) Begin(task string, total int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.task, r.total, r.done = task, total, 0
	r.start, r.last = r.now(), time.Time{}
	switch r.mode {
	case JSON:
		r.emit(Event{Event: "begin", Task: task, Total: total})
	default:
		fmt.Fprintf(r.w, "%s: %s\n", task, Bytes(total))
	}
}

// Item reports one item done (an image, a provider, a file).
func (r *Reporter) Item(item string, bytes int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch r.mode {
	case JSON:
		r.emit(Event{Event: "item", Task: r.task, Item: item, Bytes: bytes})
	case Plain:
		fmt.Fprintf(r.w, "  %s (%s)\n", item, Bytes(bytes))
	case Terminal:
		fmt.Fprintf(r.w, "\r\x1b[K  %s (%s)\n", item, Bytes(bytes))
		r.draw()
	}
}

// Add counts n more bytes moved.
func (r *Reporter) Add(n int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.done += n
	if r.mode != Terminal {
		return
	}
	if now := r.now(); now.Sub(r.last) >= 200*time.Millisecond {
		r.last = now
		r.draw()
	}
}

func (r *Reporter) draw() {
	elapsed := r.now().Sub(r.start).Seconds()
	rate := 0.0
	if elapsed > 0 {
		rate = float64(r.done) / elapsed
	}
	eta := "?"
	if rate > 0 && r.total >= r.done {
		eta = time.Duration(float64(r.total-r.done) / rate * float64(time.Second)).Round(time.Second).String()
	}
	fmt.Fprintf(r.w, "\r\x1b[K%s: %s / %s, %s/s, ETA %s", r.task, Bytes(r.done), Bytes(r.total), Bytes(int64(rate)), eta)
}

// End finishes the task.
func (r *Reporter) End(message string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	secs := r.now().Sub(r.start).Seconds()
	switch r.mode {
	case JSON:
		r.emit(Event{Event: "end", Task: r.task, Bytes: r.done, Seconds: secs, Message: message})
	case Terminal:
		fmt.Fprintf(r.w, "\r\x1b[K%s: %s in %.1f s. %s\n", r.task, Bytes(r.done), secs, message)
	default:
		fmt.Fprintf(r.w, "%s: %s in %.1f s. %s\n", r.task, Bytes(r.done), secs, message)
	}
}

// Note writes a message line.
func (r *Reporter) Note(message string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.mode == JSON {
		r.emit(Event{Event: "note", Task: r.task, Message: message})
		return
	}
	if r.mode == Terminal {
		fmt.Fprint(r.w, "\r\x1b[K")
	}
	fmt.Fprintln(r.w, message)
}

// Counter wraps a reader so every byte read is counted.
func (r *Reporter) Counter(src io.Reader) io.Reader { return &counting{src: src, r: r} }

type counting struct {
	src io.Reader
	r   *Reporter
}

func (c *counting) Read(p []byte) (int, error) {
	n, err := c.src.Read(p)
	if n > 0 {
		c.r.Add(int64(n))
	}
	return n, err
}

// Bytes formats a size in binary units.
func Bytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
