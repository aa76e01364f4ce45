package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/airgap-go-constructs/kit/internal/previews"
)

const previewsUsage = `usage: airgap-kit previews list [flags]
       airgap-kit previews reap [-dry-run] [flags]

list: every preview environment, found from the state Secrets of OpenTofu's
kubernetes backend (KubernetesStateBackend) and the namespaces' labels, with
its expiry and what reap would do with it.

reap: destroy each expired preview through Terraform: an empty configuration
applied with that preview's own backend removes everything its state holds
(taking its lock, as a pipeline would), then the empty state Secret and its
Lease are deleted. A namespace without the airgap-go-constructs.io/preview
label, or without an expiry, is never touched; neither is a labelled
namespace no state holds. Every decision is logged with its reason.

Terraform runs with this environment: TF_CLI_CONFIG_FILE for the provider
mirror, or -provider-mirror to install from a mirror folder alone. The
backend and the kubernetes provider get -kubeconfig as KUBE_CONFIG_PATH
unless it is set. Exit status: 0 when every expired preview went, 1 when
one could not be reaped, 2 for a usage error.
`

func runPreviews(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "list" && args[0] != "reap") {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
			fmt.Fprint(stdout, previewsUsage)
			return 0
		}
		fmt.Fprint(stderr, previewsUsage)
		return 2
	}
	sub := args[0]
	fs := newFlags("previews "+sub, "[flags]", stderr)
	var c common
	c.register(fs)
	stateNs := fs.String("state-namespace", "airgap-state", "the namespace of the state Secrets (KubernetesStateBackend's namespace)")
	kubeconfig := fs.String("kubeconfig", "", "the kubeconfig to use (default: $KUBECONFIG, ~/.kube/config, or the pod's service account)")
	nowFlag := fs.String("now", "", "the time to judge expiry against, RFC 3339 (default: this machine's clock)")
	var dryRun *bool
	var tofu, lockFile, mirror *string
	var lockTimeout *time.Duration
	if sub == "reap" {
		dryRun = fs.Bool("dry-run", false, "only say what would be destroyed, and change nothing")
		tofu = fs.String("tofu", "tofu", "the OpenTofu (or Terraform) binary")
		lockFile = fs.String("lock-file", "", "a .terraform.lock.hcl to pin the providers with (such as a stack's offline lock file)")
		lockTimeout = fs.Duration("lock-timeout", 0, "how long to wait for a pipeline that holds a preview's lock")
		mirror = fs.String("provider-mirror", "", "a provider filesystem mirror (such as a stack's providers/ folder) to install from, in place of TF_CLI_CONFIG_FILE's")
	}
	if code, ok := parse(fs, args[1:], stdout); !ok {
		return code
	}
	mirrorDir := ""
	if sub == "reap" && *mirror != "" {
		abs, err := filepath.Abs(*mirror)
		if st, statErr := os.Stat(abs); err != nil || statErr != nil || !st.IsDir() {
			fmt.Fprintf(stderr, "airgap-kit previews reap: -provider-mirror %q is not a directory: pass the folder that holds registry.opentofu.org/ (a stack's providers/)\n", *mirror)
			return 2
		}
		mirrorDir = abs
	}
	now := time.Now().UTC()
	clock := "this machine's clock"
	if *nowFlag != "" {
		t, err := time.Parse(time.RFC3339, *nowFlag)
		if err != nil {
			fmt.Fprintf(stderr, "airgap-kit previews %s: -now is %q, not an RFC 3339 time such as 2026-12-03T10:00:00Z\n", sub, *nowFlag)
			return 2
		}
		now, clock = t.UTC(), "-now"
	}
	cluster, err := previews.Connect(*kubeconfig)
	if err != nil {
		return fail(stderr, "previews "+sub, err)
	}
	found, err := cluster.Find(ctx, *stateNs, now)
	if err != nil {
		return fail(stderr, "previews "+sub, err)
	}
	log := func(format string, a ...any) {
		if !c.json {
			fmt.Fprintf(stdout, format+"\n", a...)
		}
	}
	if sub == "list" {
		if c.json {
			for _, p := range found {
				writeJSON(stdout, p)
			}
			return 0
		}
		tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "STATE\tNAMESPACES\tBRANCH\tEXPIRES\tVERDICT\tWHY")
		for _, p := range found {
			state, expires := "-", "-"
			if p.State != nil {
				state = p.State.Secret
			}
			if p.ExpiresAt != nil {
				expires = p.ExpiresAt.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", state, dash(strings.Join(p.Namespaces, ",")), dash(p.Branch), expires, p.Verdict, p.Reason)
		}
		tw.Flush()
		return 0
	}

	mode := ""
	if *dryRun {
		mode = " (dry run: nothing is changed)"
	}
	log("airgap-kit previews reap: now is %s (from %s), state Secrets in namespace %s%s", now.Format(time.RFC3339), clock, *stateNs, mode)
	reaped, kept, failed := 0, 0, 0
	for _, p := range found {
		event := map[string]any{"preview": p}
		switch {
		case !p.Reapable():
			kept++
			log("keep %s: %s", describe(p), p.Reason)
			event["action"] = "keep"
		case *dryRun:
			reaped++
			log("would reap %s: %s", describe(p), p.Reason)
			event["action"] = "would-reap"
		default:
			r, err := cluster.Reap(ctx, p, previews.ReapOptions{StateNamespace: *stateNs, Tofu: *tofu, LockFile: *lockFile, LockTimeout: *lockTimeout, Env: os.Environ(), ProviderMirror: mirrorDir})
			if err != nil {
				failed++
				log("FAILED to reap %s (%s): %v", describe(p), p.Reason, err)
				event["action"], event["error"] = "failed", err.Error()
				break
			}
			reaped++
			lease := ""
			if r.LeaseDeleted != "" {
				lease = ", and its Lease " + r.LeaseDeleted
			}
			log("reaped %s: %s; tofu applied an empty configuration with its backend and destroyed %d resources; deleted the empty state Secret %s%s", describe(p), p.Reason, r.Destroyed, r.StateDeleted, lease)
			event["action"], event["reaped"] = "reaped", r
		}
		if c.json {
			writeJSON(stdout, event)
		}
	}
	verb := "reaped"
	if *dryRun {
		verb = "would reap"
	}
	log("%s %d, kept %d, failed %d", verb, reaped, kept, failed)
	if failed > 0 {
		return 1
	}
	return 0
}

func describe(p previews.Preview) string {
	s := p.Name()
	if p.State != nil && len(p.Namespaces) > 0 {
		s += " (namespace " + strings.Join(p.Namespaces, ",")
		if p.Branch != "" {
			s += fmt.Sprintf(", branch %q", p.Branch)
		}
		s += ")"
	} else if p.Branch != "" {
		s += fmt.Sprintf(" (branch %q)", p.Branch)
	}
	return s
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
