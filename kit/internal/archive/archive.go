// Package archive writes and reads the carry archive: one tar stream,
// optionally zstd-compressed, optionally split into numbered parts, written
// as it is produced (nothing is staged on disk first).
//
// The reader accepts exactly what the writer writes. Every byte of an
// archive is one of: an entry's content (which the caller hashes against
// SHA256SUMS), a tar header or the zero padding before it (which must be
// byte for byte the header the writer would write for that name, mode and
// size), or the end-of-archive blocks (zeros, then nothing). A compressed
// archive's frames carry checksums of their own. So one flipped byte anywhere
// is caught without hashing the archive a second time as a whole.
package archive

import (
	"archive/tar"
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"time"

	"github.com/klauspost/compress/zstd"
)

// Epoch is the time every entry carries, so the same content gives the same bytes.
var Epoch = time.Unix(0, 0).UTC()

// Options says how to write the archive.
type Options struct {
	// Zstd compresses the tar stream.
	Zstd bool
	// PartSize splits the output into parts of at most this many bytes; 0 writes one file.
	PartSize int64
}

// header is the one header the writer writes for a file.
func header(name string, mode, size int64) *tar.Header {
	return &tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: size, ModTime: Epoch, Format: tar.FormatPAX}
}

// Writer streams tar entries into the archive file(s).
type Writer struct {
	out   *partWriter
	zw    *zstd.Encoder
	tw    *tar.Writer
	buf   *bufio.Writer
	names map[string]bool
	copy  []byte
}

// Create starts an archive at path (parts are path.000, path.001, …).
func Create(path string, opts Options) (*Writer, error) {
	pw, err := newPartWriter(path, opts.PartSize)
	if err != nil {
		return nil, err
	}
	w := &Writer{out: pw, names: map[string]bool{}, copy: make([]byte, 1<<20)}
	var sink io.Writer = pw
	if opts.Zstd {
		// One encoder goroutine keeps the output the same from run to run.
		w.zw, err = zstd.NewWriter(pw, zstd.WithEncoderConcurrency(1), zstd.WithEncoderCRC(true), zstd.WithEncoderLevel(zstd.SpeedDefault))
		if err != nil {
			pw.abort()
			return nil, err
		}
		sink = w.zw
	}
	w.buf = bufio.NewWriterSize(sink, 1<<20)
	w.tw = tar.NewWriter(w.buf)
	return w, nil
}

// Add writes one regular file of size bytes read from r. It fails if r holds
// fewer bytes, or if name was written before.
func (w *Writer) Add(name string, mode int64, size int64, r io.Reader) error {
	if w.names[name] {
		return fmt.Errorf("archive: %s written twice", name)
	}
	w.names[name] = true
	if err := w.tw.WriteHeader(header(name, mode, size)); err != nil {
		return err
	}
	n, err := io.CopyBuffer(w.tw, io.LimitReader(r, size), w.copy)
	if err != nil {
		return err
	}
	if n != size {
		return fmt.Errorf("archive: %s: expected %d bytes, got %d", name, size, n)
	}
	return nil
}

// AddBytes writes a small file from memory.
func (w *Writer) AddBytes(name string, mode int64, data []byte) error {
	return w.Add(name, mode, int64(len(data)), bytes.NewReader(data))
}

// Close finishes the archive and returns the paths written.
func (w *Writer) Close() ([]string, error) {
	err := w.tw.Close()
	if err == nil {
		err = w.buf.Flush()
	}
	if err == nil && w.zw != nil {
		err = w.zw.Close()
	}
	if err != nil {
		w.out.abort()
		return nil, err
	}
	return w.out.finish()
}

// Abort removes whatever was written.
func (w *Writer) Abort() { w.out.abort() }

// Written is the number of archive bytes written so far.
func (w *Writer) Written() int64 { return w.out.total }

// partWriter writes bytes to path, or to path.000, path.001, … of at most size bytes each.
type partWriter struct {
	base  string
	size  int64
	cur   *os.File
	curN  int64
	index int
	paths []string
	total int64
}

func newPartWriter(path string, size int64) (*partWriter, error) {
	pw := &partWriter{base: path, size: size}
	if err := pw.next(); err != nil {
		return nil, err
	}
	return pw, nil
}

func (pw *partWriter) next() error {
	if pw.cur != nil {
		if err := pw.cur.Close(); err != nil {
			return err
		}
	}
	name := pw.base
	if pw.size > 0 {
		name = fmt.Sprintf("%s.%03d", pw.base, pw.index)
	}
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("archive: %w (remove it, or write elsewhere)", err)
	}
	pw.cur, pw.curN = f, 0
	pw.paths = append(pw.paths, name)
	pw.index++
	return nil
}

func (pw *partWriter) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		if pw.size > 0 && pw.curN == pw.size {
			if err := pw.next(); err != nil {
				return written, err
			}
		}
		chunk := p
		if pw.size > 0 && int64(len(chunk)) > pw.size-pw.curN {
			chunk = chunk[:pw.size-pw.curN]
		}
		n, err := pw.cur.Write(chunk)
		pw.curN += int64(n)
		pw.total += int64(n)
		written += n
		if err != nil {
			return written, err
		}
		p = p[n:]
	}
	return written, nil
}

// finish closes the last part. It does not fsync: verify reads every byte
// back before anything uses the archive, so a crash that loses the tail shows
// as a truncated archive, never as a wrong one.
func (pw *partWriter) finish() ([]string, error) {
	if err := pw.cur.Close(); err != nil {
		pw.abort()
		return nil, err
	}
	return pw.paths, nil
}

func (pw *partWriter) abort() {
	if pw.cur != nil {
		pw.cur.Close()
	}
	for _, p := range pw.paths {
		os.Remove(p)
	}
}

// Parts finds the files of an archive: path itself, or path.000, path.001, …
// (path may also name its first part). A gap in the numbering is an error.
func Parts(path string) ([]string, error) {
	if m := partSuffix.FindStringSubmatch(path); m != nil {
		path = m[1]
	} else if st, err := os.Stat(path); err == nil && st.Mode().IsRegular() {
		return []string{path}, nil
	}
	matches, _ := filepath.Glob(path + ".[0-9][0-9][0-9]")
	if len(matches) == 0 {
		return nil, fmt.Errorf("no archive at %s (nor parts %s.000, %s.001, …)", path, path, path)
	}
	sort.Strings(matches)
	for i, m := range matches {
		n, _ := strconv.Atoi(m[len(m)-3:])
		if n != i {
			return nil, fmt.Errorf("archive part %s.%03d is missing (found %s next); carry every part", path, i, filepath.Base(m))
		}
	}
	return matches, nil
}

var partSuffix = regexp.MustCompile(`^(.*)\.(\d{3})$`)

// Entry is one file of the archive as it is read.
type Entry struct {
	Name string
	Mode int64
	Size int64
	Body io.Reader
	// Offset is where the content starts in the archive's bytes (all parts
	// in order), for an uncompressed archive; -1 for a compressed one.
	Offset int64
}

// Reader reads the archive's entries in order, from all its parts, and
// refuses any byte outside the entries' contents that the writer would not
// have written.
type Reader struct {
	parts []string
	raw   *bufio.Reader
	zr    *zstd.Decoder
	tr    *tar.Reader
	files []*os.File
	// stream is what tar reads; it counts bytes and records those between entries.
	stream *recordingReader
	// prev is the size of the previous entry, whose padding precedes the next header.
	prev       int64
	compressed bool
}

// Open opens an archive, decompressing it when it starts with the zstd magic.
func Open(path string) (*Reader, error) {
	parts, err := Parts(path)
	if err != nil {
		return nil, err
	}
	r := &Reader{parts: parts}
	readers := make([]io.Reader, 0, len(parts))
	for _, p := range parts {
		f, err := os.Open(p)
		if err != nil {
			r.Close()
			return nil, err
		}
		r.files = append(r.files, f)
		readers = append(readers, f)
	}
	r.raw = bufio.NewReaderSize(io.MultiReader(readers...), 1<<20)
	magic, _ := r.raw.Peek(4)
	var src io.Reader = r.raw
	if bytes.Equal(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}) {
		r.zr, err = zstd.NewReader(r.raw, zstd.WithDecoderConcurrency(1))
		if err != nil {
			r.Close()
			return nil, err
		}
		src, r.compressed = r.zr, true
	}
	// tar reads headers in whole blocks straight from its reader, so what it
	// has consumed after Next is exactly the offset of the entry's content.
	r.stream = &recordingReader{r: src}
	r.tr = tar.NewReader(r.stream)
	return r, nil
}

// Parts are the files being read.
func (r *Reader) Parts() []string { return r.parts }

// Seekable reports whether entries have archive offsets (uncompressed archives).
func (r *Reader) Seekable() bool { return !r.compressed }

// ErrEnd marks the end of the entries.
var ErrEnd = errors.New("end of archive")

// errDamaged names what a broken stream most likely means.
func errDamaged(err error) error {
	return fmt.Errorf("the archive is damaged or truncated (a part may be missing): %w", err)
}

// Next returns the next entry, or ErrEnd after the last. Anything but a
// regular file, and any header or padding byte the writer would not have
// written, is an error.
func (r *Reader) Next() (*Entry, error) {
	r.stream.record = true
	r.stream.recorded.Reset()
	hdr, err := r.tr.Next()
	r.stream.record = false
	pad := make([]byte, (512-r.prev%512)%512)
	if err == io.EOF {
		// Padding, then the two zero blocks that end a tar stream.
		if !bytes.Equal(r.stream.recorded.Bytes(), append(pad, make([]byte, 1024)...)) {
			return nil, fmt.Errorf("the archive's end is not what airgap-kit pack writes: it was changed")
		}
		return nil, ErrEnd
	}
	if err != nil {
		return nil, errDamaged(err)
	}
	if hdr.Typeflag != tar.TypeReg {
		return nil, fmt.Errorf("archive entry %q is not a regular file (type %q); an archive made by airgap-kit pack holds only files", hdr.Name, string(hdr.Typeflag))
	}
	var want bytes.Buffer
	want.Write(pad)
	if err := tar.NewWriter(&want).WriteHeader(header(hdr.Name, hdr.Mode, hdr.Size)); err != nil {
		return nil, fmt.Errorf("archive entry %q: %w", hdr.Name, err)
	}
	if !bytes.Equal(r.stream.recorded.Bytes(), want.Bytes()) {
		return nil, fmt.Errorf("archive entry %q: its tar header, or the padding before it, is not what airgap-kit pack writes: the archive was changed", hdr.Name)
	}
	r.prev = hdr.Size
	offset := int64(-1)
	if !r.compressed {
		offset = r.stream.n
	}
	return &Entry{Name: hdr.Name, Mode: hdr.Mode, Size: hdr.Size, Body: &errorWrap{r: r.tr}, Offset: offset}, nil
}

// Finish checks that nothing follows the end of the archive (in a
// compressed archive: nothing after the compressed stream either).
func (r *Reader) Finish() error {
	var b [1]byte
	if n, err := io.ReadFull(r.stream.r, b[:]); n > 0 || (err != nil && err != io.EOF && err != io.ErrUnexpectedEOF) {
		if err != nil && n == 0 {
			return errDamaged(err)
		}
		return fmt.Errorf("the archive has data after its end: it was changed, or parts were joined wrongly")
	}
	if r.zr != nil {
		if n, _ := io.ReadFull(r.raw, b[:]); n > 0 {
			return fmt.Errorf("the archive has data after its compressed stream: it was changed")
		}
	}
	return nil
}

// Close closes the parts.
func (r *Reader) Close() {
	if r.zr != nil {
		r.zr.Close()
	}
	for _, f := range r.files {
		f.Close()
	}
}

// recordingReader counts what is read through it and, while record is set,
// keeps a copy: the bytes tar reads between two entries' contents.
type recordingReader struct {
	r        io.Reader
	n        int64
	record   bool
	recorded bytes.Buffer
}

func (c *recordingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.record && n > 0 {
		if c.recorded.Len() > 1<<20 {
			return n, fmt.Errorf("an archive header is larger than any airgap-kit pack writes")
		}
		c.recorded.Write(p[:n])
	}
	return n, err
}

// errorWrap turns tar's unexpected EOF inside an entry into a message about truncation.
type errorWrap struct{ r io.Reader }

func (e *errorWrap) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF {
		err = errDamaged(err)
	}
	return n, err
}
