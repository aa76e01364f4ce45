package bundle

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
)

// goRunner runs the go command with the caller's environment, except for
// the few variables that must point at the bundle's private GOPATH.
type goRunner struct {
	bin string
	env []string
}

// goEnv keeps everything the caller set (GOPROXY, GOSUMDB, GONOSUMDB,
// GOPRIVATE, GOINSECURE, GOTOOLCHAIN, auth via GOAUTH or .netrc, ...) and
// replaces only where downloads land. -mod=mod makes a module with vendor/
// resolve its graph from the proxy anyway; -modcacherw lets the temporary
// cache be deleted without a chmod walk; GOWORK=off keeps a go.work that
// happens to sit above a module dir from widening the graph.
func goEnv(base []string, gopath, modcache string) []string {
	var env []string
	var flags []string
	for _, kv := range base {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "GOPATH", "GOMODCACHE", "GOWORK":
			continue
		case "GOFLAGS":
			for _, f := range strings.Fields(v) {
				if !strings.HasPrefix(f, "-mod=") && !strings.HasPrefix(f, "--mod=") && f != "-modcacherw" {
					flags = append(flags, f)
				}
			}
			continue
		}
		env = append(env, kv)
	}
	flags = append(flags, "-mod=mod", "-modcacherw")
	return append(env, "GOPATH="+gopath, "GOMODCACHE="+modcache, "GOWORK=off", "GOFLAGS="+strings.Join(flags, " "))
}

func (g *goRunner) withGOPATH(gopath, modcache string) *goRunner {
	c := *g
	c.env = goEnv(g.env, gopath, modcache)
	return &c
}

// run returns stdout; on failure the error carries the tail of stderr,
// which is where go explains itself.
func (g *goRunner) run(ctx context.Context, dir string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, g.bin, args...)
	cmd.Dir = dir
	cmd.Env = g.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > 4000 {
			msg = "..." + msg[len(msg)-4000:]
		}
		return stdout.Bytes(), fmt.Errorf("%s %s (in %s): %v\n%s", g.bin, strings.Join(args, " "), dir, err, msg)
	}
	return stdout.Bytes(), nil
}

// modulePath reads the module path without touching the network.
func (g *goRunner) modulePath(ctx context.Context, dir string) (string, error) {
	out, err := g.run(ctx, dir, "mod", "edit", "-json")
	if err != nil {
		return "", err
	}
	var m struct{ Module struct{ Path string } }
	if err := json.Unmarshal(out, &m); err != nil || m.Module.Path == "" {
		return "", fmt.Errorf("%s: cannot read the module path from go.mod", dir)
	}
	return m.Module.Path, nil
}

type downloaded struct {
	Path, Version, Error string
}

// download runs `go mod download -json all`, whose JSON stream names every
// module that failed even when go exits non-zero.
func (g *goRunner) download(ctx context.Context, dir string) ([]downloaded, error) {
	out, runErr := g.run(ctx, dir, "mod", "download", "-json", "all")
	var mods []downloaded
	var failed []string
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var m downloaded
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, errors.Join(fmt.Errorf("%s: go mod download -json: %v", dir, err), runErr)
		}
		if m.Error != "" {
			failed = append(failed, fmt.Sprintf("%s@%s: %s", m.Path, m.Version, m.Error))
		}
		mods = append(mods, m)
	}
	if len(failed) > 0 {
		return nil, fmt.Errorf("%s: cannot download:\n  %s", dir, strings.Join(failed, "\n  "))
	}
	return mods, runErr
}

// lookupSums makes go consult the checksum database for each module
// version, from a throwaway module with no go.sum. `go list -m -json`
// needs the go.mod (so go verifies it) but not the zip, and one lookup
// answers for both hashes. A module dir's own go.sum would have skipped
// the lookups, leaving the bundle unable to serve `go get` of a listed
// version to a module that does not have it in its go.sum yet.
func (g *goRunner) lookupSums(ctx context.Context, mods []string) error {
	if len(mods) == 0 {
		return nil
	}
	dir, err := os.MkdirTemp("", "offline-bundle-sumdb-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(dir+"/go.mod", []byte("module offline-bundle.invalid/sumdb\n"), 0o644); err != nil {
		return err
	}
	const chunk = 100
	for i := 0; i < len(mods); i += chunk {
		args := append([]string{"list", "-m", "-json"}, mods[i:min(i+chunk, len(mods))]...)
		if _, err := g.run(ctx, dir, args...); err != nil {
			return err
		}
	}
	return nil
}
