package server

import (
	"net"
	"sync"
)

// Limit wraps ln so that at most max connections are open at once: Accept
// waits for a free slot, and the kernel's backlog holds the rest. Open
// connections are counted in offline_mirror_connections. max <= 0 means no cap.
func (s *Server) Limit(ln net.Listener, max int) net.Listener {
	l := &limited{Listener: ln, open: &s.metrics.open}
	if max > 0 {
		l.slots = make(chan struct{}, max)
	}
	return l
}

type limited struct {
	net.Listener
	slots chan struct{}
	open  interface{ Add(int64) int64 }
}

func (l *limited) Accept() (net.Conn, error) {
	if l.slots != nil {
		l.slots <- struct{}{}
	}
	c, err := l.Listener.Accept()
	if err != nil {
		if l.slots != nil {
			<-l.slots
		}
		return nil, err
	}
	l.open.Add(1)
	return &limitedConn{Conn: c, release: func() {
		l.open.Add(-1)
		if l.slots != nil {
			<-l.slots
		}
	}}, nil
}

type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
