package pack

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/airgap-go-constructs/kit/internal/archive"
	"github.com/airgap-go-constructs/kit/internal/progress"
	"github.com/airgap-go-constructs/kit/internal/sign"
	"github.com/airgap-go-constructs/kit/internal/sums"
)

// VerifyOptions for Verify.
type VerifyOptions struct {
	// Archive is the archive path (or its first part).
	Archive string
	// PublicKey is the trusted key's file.
	PublicKey string
	// SHA256SumsHash is the pin: the sha256 of the archive's SHA256SUMS, as pack printed it.
	SHA256SumsHash string
	Progress       *progress.Reporter
}

// Verified is what a passing verification found.
type Verified struct {
	Manifest *Manifest
	Sums     *sums.Sums
	Parts    []string
	Signer   string
	// Offsets of every entry's content in the archive's bytes, for an
	// uncompressed archive (nil for a compressed one).
	Offsets map[string]Span
	// Order is every entry after SHA256SUMS and its signature, in archive order.
	Order []string
	// Executable names the entries whose mode has an execute bit.
	Executable map[string]bool
}

// Span is where an entry's content lies in the archive.
type Span struct {
	Offset, Size int64
}

// Failure is a verification that did not pass: every problem found, in order.
type Failure struct {
	Problems []string
}

func (f *Failure) Error() string {
	shown := f.Problems
	more := ""
	if len(shown) > 20 {
		more = fmt.Sprintf("\n  … and %d more", len(shown)-20)
		shown = shown[:20]
	}
	return "verification failed:\n  " + strings.Join(shown, "\n  ") + more
}

var hex64 = regexp.MustCompile(`^[0-9a-f]{64}$`)

// Verify checks the archive before anything is touched: the signature of
// SHA256SUMS against the trusted key and SHA256SUMS against the pin, then
// every file against SHA256SUMS (unlisted, missing or changed files are
// refused, and every OCI blob must hash to its own name), and every byte
// between the files against what pack writes. It writes nothing.
func Verify(ctx context.Context, opts VerifyOptions) (*Verified, error) {
	if !hex64.MatchString(opts.SHA256SumsHash) {
		return nil, fmt.Errorf("the pin %q is not 64 lowercase hex digits: pass the value airgap-kit pack printed (the sha256 of the archive's SHA256SUMS, also in ARCHIVE.sha256sums-hash)", opts.SHA256SumsHash)
	}
	key, err := sign.LoadPublicKey(opts.PublicKey)
	if err != nil {
		return nil, err
	}
	r, err := archive.Open(opts.Archive)
	if err != nil {
		return nil, &Failure{Problems: []string{err.Error()}}
	}
	defer r.Close()
	rep := opts.Progress

	first := func(want string) ([]byte, error) {
		e, err := r.Next()
		if err != nil {
			return nil, &Failure{Problems: []string{fmt.Sprintf("reading %s: %v", want, err)}}
		}
		if e.Name != want {
			return nil, &Failure{Problems: []string{fmt.Sprintf("the archive starts with %q where %s belongs: it was not made by airgap-kit pack, or was rebuilt", e.Name, want)}}
		}
		if e.Size > 64<<20 {
			return nil, &Failure{Problems: []string{fmt.Sprintf("%s is %d bytes, more than any archive needs", want, e.Size)}}
		}
		data, err := io.ReadAll(e.Body)
		if err != nil {
			return nil, &Failure{Problems: []string{fmt.Sprintf("reading %s: %v", want, err)}}
		}
		return data, nil
	}
	sumsData, err := first(SumsName)
	if err != nil {
		return nil, err
	}
	sigData, err := first(SignatureName)
	if err != nil {
		if f, ok := err.(*Failure); ok {
			f.Problems[0] += " (the signature is missing)"
		}
		return nil, err
	}
	if err := key.Verify(sumsData, sigData); err != nil {
		return nil, &Failure{Problems: []string{fmt.Sprintf("signature: %v; do not use this archive", err)}}
	}
	if sum := sha256.Sum256(sumsData); hex.EncodeToString(sum[:]) != opts.SHA256SumsHash {
		return nil, &Failure{Problems: []string{fmt.Sprintf("the archive's SHA256SUMS has sha256 %x, not the pinned %s: it is another archive (signed by the same key), or the pin is wrong", sum, opts.SHA256SumsHash)}}
	}
	listed, err := sums.Parse(sumsData)
	if err != nil {
		return nil, &Failure{Problems: []string{err.Error()}}
	}

	var problems []string
	seen := map[string]bool{}
	buf := make([]byte, 1<<20)
	var order []string
	executable := map[string]bool{}
	var offsets map[string]Span
	if r.Seekable() {
		offsets = map[string]Span{}
	}
	var manifestJSON []byte
	rep.Begin("verify", 0)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		e, err := r.Next()
		if err == archive.ErrEnd {
			break
		}
		if err != nil {
			problems = append(problems, err.Error())
			break
		}
		want, ok := listed.Lookup(e.Name)
		switch {
		case e.Name == SumsName || e.Name == SignatureName:
			problems = append(problems, fmt.Sprintf("%s appears a second time", e.Name))
			continue
		case seen[e.Name]:
			problems = append(problems, fmt.Sprintf("%s appears twice in the archive", e.Name))
			continue
		case !ok:
			problems = append(problems, fmt.Sprintf("%s is in the archive but not in SHA256SUMS: refused", e.Name))
			continue
		}
		seen[e.Name] = true
		order = append(order, e.Name)
		if e.Mode&0o111 != 0 {
			executable[e.Name] = true
		}
		if offsets != nil {
			offsets[e.Name] = Span{Offset: e.Offset, Size: e.Size}
		}
		h := sha256.New()
		var body io.Reader = rep.Counter(e.Body)
		if e.Name == ManifestName {
			data, err := io.ReadAll(io.LimitReader(body, 64<<20))
			if err != nil {
				problems = append(problems, err.Error())
				break
			}
			manifestJSON = data
			h.Write(data)
		} else if _, err := io.CopyBuffer(h, body, buf); err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", e.Name, err))
			break
		}
		got := hex.EncodeToString(h.Sum(nil))
		if got != want {
			problems = append(problems, fmt.Sprintf("%s has sha256 %s, but SHA256SUMS lists %s: it changed after pack", e.Name, got, want))
		}
		if strings.HasPrefix(e.Name, OCIDir+"/blobs/sha256/") {
			if name := strings.TrimPrefix(e.Name, OCIDir+"/blobs/sha256/"); name != got {
				problems = append(problems, fmt.Sprintf("OCI blob %s hashes to sha256:%s, not to its own name", e.Name, got))
			}
		}
	}
	for _, e := range listed.Entries {
		if !seen[e.Path] {
			problems = append(problems, fmt.Sprintf("%s is listed in SHA256SUMS but missing from the archive (truncated, or a part is missing)", e.Path))
		}
	}
	if err := r.Finish(); err != nil {
		problems = append(problems, err.Error())
	}
	if len(problems) > 0 {
		rep.End("FAILED")
		return nil, &Failure{Problems: problems}
	}
	var m Manifest
	if err := json.Unmarshal(manifestJSON, &m); err != nil || m.FormatVersion != FormatV1 {
		return nil, &Failure{Problems: []string{fmt.Sprintf("manifest.json is not a format %d manifest", FormatV1)}}
	}
	rep.End(fmt.Sprintf("OK: %d files match the signed SHA256SUMS, signed by %s", len(seen), key.Fingerprint()))
	return &Verified{Manifest: &m, Sums: listed, Parts: r.Parts(), Signer: key.Fingerprint(), Offsets: offsets, Order: order, Executable: executable}, nil
}
