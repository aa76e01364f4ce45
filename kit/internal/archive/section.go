package archive

import (
	"fmt"
	"io"
	"os"
)

// Concat reads an archive's parts as one span of bytes, at any offset, so a
// verified uncompressed archive's entries can be read again in parallel.
type Concat struct {
	files  []*os.File
	starts []int64
	size   int64
}

// OpenConcat opens the parts of an archive.
func OpenConcat(parts []string) (*Concat, error) {
	c := &Concat{}
	for _, p := range parts {
		f, err := os.Open(p)
		if err != nil {
			c.Close()
			return nil, err
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			c.Close()
			return nil, err
		}
		c.files = append(c.files, f)
		c.starts = append(c.starts, c.size)
		c.size += st.Size()
	}
	return c, nil
}

// ReadAt reads across part boundaries.
func (c *Concat) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off >= c.size {
		return 0, io.EOF
	}
	done := 0
	for done < len(p) && off < c.size {
		i := 0
		for i+1 < len(c.starts) && c.starts[i+1] <= off {
			i++
		}
		n, err := c.files[i].ReadAt(p[done:], off-c.starts[i])
		done += n
		off += int64(n)
		if err != nil && err != io.EOF {
			return done, err
		}
		if n == 0 {
			return done, fmt.Errorf("archive part %s ends early", c.files[i].Name())
		}
	}
	if done < len(p) {
		return done, io.EOF
	}
	return done, nil
}

// Section is the n bytes at off.
func (c *Concat) Section(off, n int64) *io.SectionReader { return io.NewSectionReader(c, off, n) }

// Open reads the n bytes at off; call done when finished. Within one part
// the reader is an *io.LimitedReader over that part's own *os.File, which
// net's sendfile path recognises (an upload then never copies through user
// space); across parts it is a section of the concatenation.
func (c *Concat) Open(off, n int64) (r io.Reader, done func(), err error) {
	for i, start := range c.starts {
		end := c.size
		if i+1 < len(c.starts) {
			end = c.starts[i+1]
		}
		if off >= start && off+n <= end {
			f, err := os.Open(c.files[i].Name())
			if err != nil {
				return nil, nil, err
			}
			if _, err := f.Seek(off-start, io.SeekStart); err != nil {
				f.Close()
				return nil, nil, err
			}
			return &io.LimitedReader{R: f, N: n}, func() { f.Close() }, nil
		}
	}
	return c.Section(off, n), func() {}, nil
}

// Close closes the parts.
func (c *Concat) Close() {
	for _, f := range c.files {
		f.Close()
	}
}
