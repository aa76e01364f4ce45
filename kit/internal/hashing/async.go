// Package hashing hashes a stream on a goroutine of its own, so sha256 runs
// beside the reads and writes that move the bytes instead of between them.
package hashing

import (
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"sync"
)

// Async is an io.Writer whose bytes are hashed on another goroutine.
type Async struct {
	ch   chan []byte
	done chan struct{}
	h    hash.Hash
	pool *sync.Pool
}

var buffers = &sync.Pool{New: func() any { b := make([]byte, 0, 1<<20); return &b }}

// NewSHA256 starts a sha256 on its own goroutine.
func NewSHA256() *Async {
	a := &Async{ch: make(chan []byte, 8), done: make(chan struct{}), h: sha256.New(), pool: buffers}
	go func() {
		for b := range a.ch {
			a.h.Write(b)
			b = b[:0]
			a.pool.Put(&b)
		}
		close(a.done)
	}()
	return a
}

// Write queues a copy of p.
func (a *Async) Write(p []byte) (int, error) {
	for rest := p; len(rest) > 0; {
		b := *(a.pool.Get().(*[]byte))
		n := cap(b)
		if n > len(rest) {
			n = len(rest)
		}
		a.ch <- append(b[:0], rest[:n]...)
		rest = rest[n:]
	}
	return len(p), nil
}

// Sum waits for everything written and returns the hex digest; call it once.
func (a *Async) Sum() string {
	close(a.ch)
	<-a.done
	return hex.EncodeToString(a.h.Sum(nil))
}
