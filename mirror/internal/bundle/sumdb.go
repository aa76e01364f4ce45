package bundle

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// A checksum database lookup is "<record id>\n<go.sum lines>\n\n<signed
// tree note>". `go` trusts the note on its signature alone and then checks
// that the record is in the tree of its *latest* note, fetching the tiles
// that prove it. proxy.golang.org answers lookups from a cache, so the
// notes of one bundling session name several tree sizes, and which tiles
// a later offline client needs would depend on the order it looks modules
// up in: any order other than the one seen while bundling can ask for a
// tile the bundle does not have. Giving every lookup the same (newest)
// signed note, and then letting `go` fetch the tiles for that one tree
// from scratch, makes the bundle answer every order, and makes the set of
// tiles depend only on the lookups, not on the order go did them in. The note stays the database's
// signed note; only which valid note accompanies a record changes, which
// `go` does not check.

const noteHeader = "go.sum database tree\n"

// treeSize parses the size out of a signed tree note.
func treeSize(note []byte) (int64, error) {
	rest, ok := bytes.CutPrefix(note, []byte(noteHeader))
	if !ok {
		return 0, fmt.Errorf("not a go.sum database tree note")
	}
	line, _, _ := bytes.Cut(rest, []byte("\n"))
	n, err := strconv.ParseInt(string(line), 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("bad tree size %q", line)
	}
	return n, nil
}

// splitLookup returns the record id, the part before the note, and the note.
func splitLookup(data []byte) (int64, []byte, []byte, error) {
	idLine, _, ok := bytes.Cut(data, []byte("\n"))
	i := bytes.Index(data, []byte("\n\n"))
	if !ok || i < 0 {
		return 0, nil, nil, fmt.Errorf("not a checksum database lookup")
	}
	id, err := strconv.ParseInt(string(idLine), 10, 64)
	if err != nil || id < 0 {
		return 0, nil, nil, fmt.Errorf("bad record id %q", idLine)
	}
	return id, data[:i+2], data[i+2:], nil
}

// unifyLookups rewrites the lookups of each database under sumdbCache
// (GOMODCACHE/cache/download/sumdb) to carry the latest note that go saved
// under sumdbConfig (GOPATH/pkg/sumdb), and deletes the cached tiles so
// that the next lookups fetch exactly those of the latest tree.
func unifyLookups(sumdbCache, sumdbConfig string) error {
	hosts, err := os.ReadDir(sumdbCache)
	if os.IsNotExist(err) {
		return nil
	} else if err != nil {
		return err
	}
	for _, h := range hosts {
		lookups := filepath.Join(sumdbCache, h.Name(), "lookup")
		if _, err := os.Stat(lookups); os.IsNotExist(err) {
			continue
		}
		latest, err := os.ReadFile(filepath.Join(sumdbConfig, h.Name(), "latest"))
		if err != nil {
			return fmt.Errorf("checksum database %s: lookups but no latest note: %v", h.Name(), err)
		}
		latestN, err := treeSize(latest)
		if err != nil {
			return fmt.Errorf("checksum database %s: latest note: %v", h.Name(), err)
		}
		err = filepath.WalkDir(lookups, func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() || strings.HasSuffix(p, ".lock") {
				return err
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			id, record, note, err := splitLookup(data)
			if err != nil {
				return fmt.Errorf("%s: %v", p, err)
			}
			if bytes.Equal(note, latest) {
				return nil
			}
			n, err := treeSize(note)
			if err != nil {
				return fmt.Errorf("%s: %v", p, err)
			}
			if n > latestN || id >= latestN {
				return fmt.Errorf("%s: tree %d is newer than the latest note's %d", p, n, latestN)
			}
			return os.WriteFile(p, append(record[:len(record):len(record)], latest...), 0o644)
		})
		if err != nil {
			return err
		}
		if err := os.RemoveAll(filepath.Join(sumdbCache, h.Name(), "tile")); err != nil {
			return err
		}
	}
	return nil
}
