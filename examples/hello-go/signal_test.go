//go:build unix

package main

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain lets the test binary stand in for the hello-go binary: with
// HELLO_GO_RUN_MAIN=1 in its environment it runs main with its arguments,
// so the tests below exercise the real signal handling and exit codes.
func TestMain(m *testing.M) {
	if os.Getenv("HELLO_GO_RUN_MAIN") == "1" {
		main()
	}
	os.Exit(m.Run())
}

func helloGo(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "HELLO_GO_RUN_MAIN=1")
	return cmd
}

func TestSIGTERM(t *testing.T) {
	cmd := helloGo("-addr", "127.0.0.1:0", "-drain-delay", "500ms", "-shutdown-timeout", "5s")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := false
	t.Cleanup(func() {
		if !exited {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	lines := logReader(stdout)
	addr := waitFor(t, lines, "listening")["addr"].(string)

	healthcheck := func(args ...string) int {
		t.Helper()
		out, err := helloGo(args...).CombinedOutput()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatalf("hello-go %s: %v", strings.Join(args, " "), err)
		}
		if err == nil && len(out) > 0 {
			t.Errorf("healthy healthcheck printed %q", out)
		}
		return exitStatus(err)
	}
	for _, args := range [][]string{{"-healthcheck", "-addr", addr}, {"healthcheck", "-addr", addr}} {
		if code := healthcheck(args...); code != 0 {
			t.Errorf("hello-go %s: exit code %d, want 0", strings.Join(args, " "), code)
		}
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	signalled := time.Now()
	if cause := waitFor(t, lines, "shutting down")["cause"]; cause != "terminated signal received" {
		t.Errorf("shutdown cause %q, want the SIGTERM", cause)
	}
	// Draining: not ready, still alive.
	resp, err := client.Get("http://" + addr + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 {
		t.Errorf("/readyz after SIGTERM: %d, want 503", resp.StatusCode)
	}
	if code := healthcheck("-healthcheck", "-addr", addr); code != 0 {
		t.Errorf("healthcheck while draining: exit code %d, want 0", code)
	}

	waitFor(t, lines, "stopped")
	for range lines { // read to EOF before Wait
	}
	err = cmd.Wait()
	exited = true
	if err != nil {
		t.Fatalf("hello-go after SIGTERM: %v, want exit code 0; stderr %q", err, stderr.String())
	}
	if elapsed := time.Since(signalled); elapsed < 500*time.Millisecond || elapsed > 5*time.Second {
		t.Errorf("exited %s after SIGTERM, want after the 500ms drain delay and well within the timeout", elapsed)
	}
	if code := healthcheck("-healthcheck", "-addr", addr); code != 1 {
		t.Errorf("healthcheck of a stopped server: exit code %d, want 1", code)
	}
}

func TestExitCodes(t *testing.T) {
	tests := []struct {
		args []string
		want int
	}{
		{[]string{"-h"}, 0},
		{[]string{"-no-such-flag"}, 2},
		{[]string{"-healthcheck", "-addr", "127.0.0.1:1"}, 1}, // nothing listens on port 1
	}
	for _, tt := range tests {
		err := helloGo(tt.args...).Run()
		if got := exitStatus(err); got != tt.want {
			t.Errorf("hello-go %s: exit code %d (%v), want %d", strings.Join(tt.args, " "), got, err, tt.want)
		}
	}
}

// exitStatus is the exit code of a finished command, from its Run error.
func exitStatus(err error) int {
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}
