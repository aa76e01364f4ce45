package server

import (
	"bufio"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// AccessEntry is one request's log line.
type AccessEntry struct {
	Time     time.Time
	Method   string
	Path     string // already cut to logPathMax
	Status   int    // 0: the response was cut off
	Bytes    int64
	Duration time.Duration
	Remote   string
}

// AccessLog writes request lines as JSON from a goroutine of its own,
// through a buffer, so a slow log sink never holds a request up: when the
// queue is full a line is dropped and counted (offline_mirror_log_dropped_total).
type AccessLog struct {
	ch      chan AccessEntry
	flush   chan chan struct{}
	dropped atomic.Int64
	done    chan struct{}
	once    sync.Once
}

// NewAccessLog starts writing to w; queue is how many lines may wait.
func NewAccessLog(w io.Writer, queue int) *AccessLog {
	l := &AccessLog{ch: make(chan AccessEntry, queue), flush: make(chan chan struct{}), done: make(chan struct{})}
	go l.run(w)
	return l
}

// Log queues a line, or drops it when the queue is full.
func (l *AccessLog) Log(e AccessEntry) {
	select {
	case l.ch <- e:
	default:
		l.dropped.Add(1)
	}
}

// Dropped is the number of lines dropped so far.
func (l *AccessLog) Dropped() int64 { return l.dropped.Load() }

// Flush returns once every line queued before the call is written.
func (l *AccessLog) Flush() {
	ack := make(chan struct{})
	select {
	case l.flush <- ack:
		<-ack
	case <-l.done:
	}
}

// Close writes what is queued and stops.
func (l *AccessLog) Close() {
	l.once.Do(func() { close(l.ch) })
	<-l.done
}

func (l *AccessLog) run(w io.Writer) {
	defer close(l.done)
	bw := bufio.NewWriterSize(w, 64<<10)
	var line []byte
	write := func(e AccessEntry) {
		line = appendEntry(line[:0], e)
		bw.Write(line)
	}
	for {
		select {
		case e, ok := <-l.ch:
			if !ok {
				bw.Flush()
				return
			}
			write(e)
			// Flush when nothing else is waiting: lines come out promptly when
			// it is quiet, and in large writes under load.
			if len(l.ch) == 0 {
				bw.Flush()
			}
		case ack := <-l.flush:
			for n := len(l.ch); n > 0; n-- {
				if e, ok := <-l.ch; ok {
					write(e)
				}
			}
			bw.Flush()
			close(ack)
		}
	}
}

// appendEntry renders the same JSON shape slog's JSON handler gives the other log lines.
func appendEntry(b []byte, e AccessEntry) []byte {
	b = append(b, `{"time":"`...)
	b = e.Time.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","level":"INFO","msg":"request","method":`...)
	b = appendJSONString(b, e.Method)
	b = append(b, `,"path":`...)
	b = appendJSONString(b, e.Path)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(e.Status), 10)
	b = append(b, `,"bytes":`...)
	b = strconv.AppendInt(b, e.Bytes, 10)
	b = append(b, `,"duration_ms":`...)
	b = strconv.AppendFloat(b, float64(e.Duration.Microseconds())/1000, 'f', -1, 64)
	b = append(b, `,"remote":`...)
	b = appendJSONString(b, e.Remote)
	return append(b, "}\n"...)
}

const hexDigits = "0123456789abcdef"

// appendJSONString quotes s as a JSON string, escaping control characters, quotes and invalid UTF-8.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			b = append(b, c)
			i++
			continue
		}
		if c < utf8.RuneSelf {
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
