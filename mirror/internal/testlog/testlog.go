// Package testlog holds a log sink that tests share: the server logs from
// several goroutines while a test reads what it wrote.
package testlog

import (
	"bytes"
	"sync"
)

// Buffer is a bytes.Buffer safe for concurrent writes and reads.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
	// Settle, when set, runs before every read: it waits for an
	// asynchronous writer (the access log) to catch up.
	Settle func()
}

func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *Buffer) String() string {
	if s.Settle != nil {
		s.Settle()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
