package pack

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/airgap-go-constructs/kit/internal/sums"
)

// StackVerifyOptions for VerifyStack.
type StackVerifyOptions struct {
	// Dir is a stack directory (holding SHA256SUMS and offline/).
	Dir string
	// SHA256SumsHash is the stack's pin: the sha256 of its SHA256SUMS.
	SHA256SumsHash string
	// Initialised allows Terraform's own files (tofu init already ran here).
	Initialised bool
}

// runtimeFile reports whether a stack-relative path is one of Terraform's own files.
func runtimeFile(rel string) bool {
	return rel == ".terraform" || strings.HasPrefix(rel, ".terraform/") || strings.HasSuffix(rel, ".tfstate") ||
		strings.HasSuffix(rel, ".tfstate.backup") || rel == ".terraform.tfstate.lock.info"
}

// VerifyStack checks a stack directory by the rules offline/verify.sh
// follows, from outside it: the pin, SHA256SUMS's grammar, every entry of the
// folder (anything but a folder or a regular file is refused, and so are
// Terraform's own files unless Initialised), then every listed file's content.
func VerifyStack(opts StackVerifyOptions) (int, error) {
	if !hex64.MatchString(opts.SHA256SumsHash) {
		return 0, fmt.Errorf("the pin %q is not 64 lowercase hex digits: pass the sha256 of the stack's SHA256SUMS", opts.SHA256SumsHash)
	}
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	sumsPath := filepath.Join(opts.Dir, SumsName)
	st, err := os.Lstat(sumsPath)
	if err != nil || !st.Mode().IsRegular() {
		return 0, &Failure{Problems: []string{"SHA256SUMS is missing or not a regular file"}}
	}
	data, err := os.ReadFile(sumsPath)
	if err != nil {
		return 0, &Failure{Problems: []string{err.Error()}}
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != opts.SHA256SumsHash {
		return 0, &Failure{Problems: []string{fmt.Sprintf("SHA256SUMS has sha256 %x, not the pinned %s: this is not the stack that was recorded", sum, opts.SHA256SumsHash)}}
	}
	listed, err := sums.Parse(data)
	if err != nil {
		return 0, &Failure{Problems: []string{err.Error()}}
	}

	present := map[string]bool{}
	var runtime []string
	walkErr := filepath.WalkDir(opts.Dir, func(p string, d fs.DirEntry, err error) error {
		rel, _ := filepath.Rel(opts.Dir, p)
		rel = filepath.ToSlash(rel)
		if err != nil {
			bad("%s: %v", rel, err)
			return nil
		}
		if rel == "." || rel == SumsName {
			return nil
		}
		if why := sums.CheckPath(rel); why != "" && !strings.Contains(why, "segment") {
			bad("%q: its name %s", rel, why)
			return nil
		}
		if runtimeFile(rel) {
			runtime = append(runtime, rel)
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		switch {
		case d.IsDir():
		case d.Type().IsRegular():
			present[rel] = true
		default:
			bad("%s is not a regular file (%s): refused", rel, d.Type())
		}
		return nil
	})
	if walkErr != nil {
		bad("%v", walkErr)
	}
	if _, shipped := listed.Lookup(".terraform.lock.hcl"); !shipped && present[".terraform.lock.hcl"] {
		delete(present, ".terraform.lock.hcl")
		runtime = append(runtime, ".terraform.lock.hcl")
	}
	if len(runtime) > 0 && !opts.Initialised {
		sort.Strings(runtime)
		bad("Terraform's own files, which a freshly carried stack does not have (pass -initialised after tofu init): %s", strings.Join(runtime, " "))
	}
	for _, e := range listed.Entries {
		if !present[e.Path] {
			bad("%s is listed in SHA256SUMS but missing", e.Path)
			continue
		}
		delete(present, e.Path)
		f, err := os.Open(filepath.Join(opts.Dir, filepath.FromSlash(e.Path)))
		if err != nil {
			bad("%s: %v", e.Path, err)
			continue
		}
		h := sha256.New()
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			bad("%s: %v", e.Path, err)
		} else if got := hex.EncodeToString(h.Sum(nil)); got != e.SHA256 {
			bad("%s has sha256 %s, but SHA256SUMS lists %s: it changed", e.Path, got, e.SHA256)
		}
	}
	var extra []string
	for p := range present {
		extra = append(extra, p)
	}
	sort.Strings(extra)
	for _, p := range extra {
		bad("%s is not in SHA256SUMS: refused", p)
	}
	if len(problems) > 0 {
		return 0, &Failure{Problems: problems}
	}
	return listed.Len(), nil
}
