package server

import (
	"net/url"
	"strings"

	"github.com/airgap-go-constructs/mirror/internal/verify"
)

// bundlePath maps a request URL to a bundle-relative path, or says why it
// cannot. It decodes each segment of the escaped path itself, so that
// %2f cannot join segments, %2e%2e cannot pass for a name, and %5c or %00
// are caught like their literal forms. Lookups only ever hit the in-memory
// index of verified files, so this is defence in depth, but a clear 400 is
// also easier to read in the logs than a 404.
func bundlePath(u *url.URL) (string, string) {
	if u.Opaque != "" {
		return "", "opaque URL"
	}
	raw := u.EscapedPath()
	if !strings.HasPrefix(raw, "/") {
		return "", "path does not start with /"
	}
	segs := strings.Split(raw[1:], "/")
	for i, s := range segs {
		d, err := url.PathUnescape(s)
		if err != nil {
			return "", "bad percent-encoding"
		}
		if strings.Contains(d, "/") {
			return "", "encoded slash in path"
		}
		segs[i] = d
	}
	rel := strings.Join(segs, "/")
	if why := verify.ValidPath(rel); why != "" {
		return "", why
	}
	return rel, ""
}

// contentType follows what Go module proxies send, so that clients and
// caches in between see the same thing as from proxy.golang.org.
func contentType(rel string) string {
	if rest, ok := strings.CutPrefix(rel, "sumdb/"); ok {
		// Checked first: a version such as v1.0.0-x.zip may end a lookup path.
		if _, rest, _ := strings.Cut(rest, "/"); rest == "latest" || strings.HasPrefix(rest, "lookup/") {
			return "text/plain; charset=utf-8"
		}
		return "application/octet-stream"
	}
	switch {
	case strings.HasSuffix(rel, "/@latest"), strings.HasSuffix(rel, ".info"), strings.HasSuffix(rel, ".json"):
		return "application/json"
	case strings.HasSuffix(rel, ".mod"), strings.HasSuffix(rel, "/@v/list"):
		return "text/plain; charset=utf-8"
	case strings.HasSuffix(rel, ".zip"):
		return "application/zip"
	}
	return "application/octet-stream"
}
