package previews

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// The dynamic client keeps the kit small: the typed clients would link
// every API group's generated code for the three kinds used here.
var (
	namespacesGVR = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
	secretsGVR    = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}
	leasesGVR     = schema.GroupVersionResource{Group: "coordination.k8s.io", Version: "v1", Resource: "leases"}
)

// Cluster is the API server the previews and their states live on.
type Cluster struct {
	client dynamic.Interface
	// kubeconfig is the file the client was configured from; "" in a pod.
	kubeconfig string
}

// Connect configures a client the way kubectl does: the explicit file, else
// $KUBECONFIG, else ~/.kube/config, else the pod's service account.
func Connect(kubeconfig string) (*Cluster, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if kubeconfig != "" {
		rules.ExplicitPath = kubeconfig
	}
	var cfg *rest.Config
	var err error
	path := kubeconfig
	if path == "" {
		for _, p := range rules.Precedence {
			if _, statErr := os.Stat(p); statErr == nil {
				path = p
				break
			}
		}
	}
	if path != "" {
		cfg, err = clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).ClientConfig()
	} else {
		cfg, err = rest.InClusterConfig()
	}
	if err != nil {
		return nil, fmt.Errorf("no cluster to talk to: %w (pass -kubeconfig, set KUBECONFIG, or run in a pod)", err)
	}
	cfg.UserAgent = "airgap-kit-previews"
	client, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	abs := path
	if abs != "" {
		if abs, err = filepath.Abs(path); err != nil {
			return nil, err
		}
	}
	return &Cluster{client: client, kubeconfig: abs}, nil
}

// Find lists every preview: each state Secret in stateNamespace whose
// namespaces carry our preview label, judged against now, and the labelled
// namespaces no state holds. Sorted by name.
func (c *Cluster) Find(ctx context.Context, stateNamespace string, now time.Time) ([]Preview, error) {
	nsList, err := c.client.Resource(namespacesGVR).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing namespaces: %w%s", err, forbiddenHint(err))
	}
	live := map[string]Namespace{}
	var all []Namespace
	for _, n := range nsList.Items {
		ns := Namespace{Name: n.GetName(), Labels: n.GetLabels(), Annotations: n.GetAnnotations()}
		live[ns.Name] = ns
		all = append(all, ns)
	}
	secrets, err := c.client.Resource(secretsGVR).Namespace(stateNamespace).List(ctx, metav1.ListOptions{LabelSelector: suffixLabel})
	if err != nil {
		return nil, fmt.Errorf("listing state Secrets in namespace %s: %w%s", stateNamespace, err, forbiddenHint(err))
	}
	lookup := func(name string) (Namespace, bool) { n, ok := live[name]; return n, ok }
	held := map[string]bool{}
	var out []Preview
	for i := range secrets.Items {
		sec := &secrets.Items[i]
		s, err := decodeSecret(sec)
		for _, n := range s.Namespaces {
			held[n] = true
		}
		if err != nil {
			// Only a state that looks like a preview's is reported; an unreadable one is never reaped.
			if sec.GetLabels()[PreviewLabel] == "true" {
				out = append(out, Preview{State: &s, Verdict: Unreadable, Reason: err.Error()})
			}
			continue
		}
		if p, ok := Judge(s, lookup, now); ok {
			out = append(out, p)
		}
	}
	out = append(out, Orphans(all, held, stateNamespace)...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out, nil
}

// ReapOptions says how to run Terraform for a reap.
type ReapOptions struct {
	StateNamespace string
	// Tofu is the OpenTofu (or Terraform) binary.
	Tofu string
	// LockFile, when set, is copied in as .terraform.lock.hcl to pin the providers.
	LockFile string
	// LockTimeout is how long to wait for a pipeline holding the preview's lock.
	LockTimeout time.Duration
	// Env is the environment Terraform runs in (its CLI config, provider mirror, credentials).
	Env []string
	// ProviderMirror, when set, is a provider filesystem mirror (absolute):
	// Terraform then installs from it alone, with a CLI configuration of the
	// reaper's own in place of TF_CLI_CONFIG_FILE.
	ProviderMirror string
}

// MirrorCLIConfig is a CLI configuration that installs providers from the
// filesystem mirror at dir only (no direct block, so never from a registry),
// for OpenTofu's and Terraform's registry hosts alike.
func MirrorCLIConfig(dir string) ([]byte, error) {
	if !filepath.IsAbs(dir) {
		return nil, fmt.Errorf("provider mirror %q is not an absolute path", dir)
	}
	quoted, err := json.Marshal(dir)
	if err != nil {
		return nil, err
	}
	return []byte(fmt.Sprintf("provider_installation {\n  filesystem_mirror {\n    path    = %s\n    include = [\"registry.opentofu.org/*/*\", \"registry.terraform.io/*/*\"]\n  }\n}\ndisable_checkpoint = true\n", quoted)), nil
}

// Reaped is what one reap did.
type Reaped struct {
	Destroyed    int    `json:"destroyed"`
	StateDeleted string `json:"stateDeleted"`
	LeaseDeleted string `json:"leaseDeleted,omitempty"`
}

var applySummary = regexp.MustCompile(`Resources: (\d+) added, (\d+) changed, (\d+) destroyed`)

// Reap destroys an expired preview through Terraform: it applies an empty
// configuration with the preview's own backend (so the state's lock is
// taken, and every object goes the way Terraform would destroy it), checks
// that the state is then empty, and only then deletes the state Secret and
// its Lease, guarded by their resource versions.
func (c *Cluster) Reap(ctx context.Context, p Preview, o ReapOptions) (Reaped, error) {
	var r Reaped
	if !p.Reapable() {
		return r, fmt.Errorf("%s is %s, not expired", p.Name(), p.Verdict)
	}
	s := *p.State
	cfg, err := EmptyConfiguration(s, o.StateNamespace)
	if err != nil {
		return r, err
	}
	dir, err := os.MkdirTemp("", "airgap-kit-reap-")
	if err != nil {
		return r, err
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "main.tf.json"), cfg, 0o600); err != nil {
		return r, err
	}
	if o.LockFile != "" {
		lock, err := os.ReadFile(o.LockFile)
		if err != nil {
			return r, err
		}
		if err := os.WriteFile(filepath.Join(dir, ".terraform.lock.hcl"), lock, 0o600); err != nil {
			return r, err
		}
	}
	env := append(append([]string{}, o.Env...), "TF_IN_AUTOMATION=1", "CHECKPOINT_DISABLE=1")
	if o.ProviderMirror != "" {
		cli, err := MirrorCLIConfig(o.ProviderMirror)
		if err != nil {
			return r, err
		}
		// Outside dir's configuration files; the last TF_CLI_CONFIG_FILE in env wins.
		path := filepath.Join(dir, ".airgap-kit.tfrc")
		if err := os.WriteFile(path, cli, 0o600); err != nil {
			return r, err
		}
		env = append(env, "TF_CLI_CONFIG_FILE="+path)
	}
	if s.Workspace != "default" {
		env = append(env, "TF_WORKSPACE="+s.Workspace)
	}
	if !hasEnv(o.Env, "KUBE_CONFIG_PATH") {
		// The backend and the kubernetes provider both read it: the reaper's own identity.
		if c.kubeconfig != "" {
			env = append(env, "KUBE_CONFIG_PATH="+c.kubeconfig)
		} else {
			env = append(env, "KUBE_IN_CLUSTER_CONFIG=true")
		}
	}
	if _, err := c.tofu(ctx, dir, env, o.Tofu, "init", "-input=false", "-no-color"); err != nil {
		return r, err
	}
	out, err := c.tofu(ctx, dir, env, o.Tofu, "apply", "-auto-approve", "-input=false", "-no-color", "-lock-timeout="+o.LockTimeout.String())
	if err != nil {
		return r, err
	}
	m := applySummary.FindStringSubmatch(out)
	if m == nil {
		if !strings.Contains(out, "No changes.") {
			return r, fmt.Errorf("tofu apply printed no summary:\n%s", out)
		}
	} else {
		if m[1] != "0" || m[2] != "0" {
			return r, fmt.Errorf("the empty configuration added %s and changed %s resources; state left in place:\n%s", m[1], m[2], out)
		}
		r.Destroyed, _ = strconv.Atoi(m[3])
	}

	secrets := c.client.Resource(secretsGVR).Namespace(o.StateNamespace)
	sec, err := secrets.Get(ctx, s.Secret, metav1.GetOptions{})
	if err != nil {
		return r, fmt.Errorf("reading state Secret %s after the destroy: %w", s.Secret, err)
	}
	after, err := decodeSecret(sec)
	if err != nil {
		return r, err
	}
	if after.Resources != 0 {
		return r, fmt.Errorf("state Secret %s still holds %d resources after the destroy; left in place", s.Secret, after.Resources)
	}
	// A pipeline that applied again since would have moved the version: then the Secret stays.
	if err := secrets.Delete(ctx, sec.GetName(), guarded(sec)); err != nil {
		return r, fmt.Errorf("deleting state Secret %s: %w", s.Secret, err)
	}
	r.StateDeleted = o.StateNamespace + "/" + s.Secret

	leaseName := "lock-" + s.Secret
	leases := c.client.Resource(leasesGVR).Namespace(o.StateNamespace)
	lease, err := leases.Get(ctx, leaseName, metav1.GetOptions{})
	holder := ""
	if err == nil {
		holder, _, _ = unstructured.NestedString(lease.Object, "spec", "holderIdentity")
	}
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		return r, fmt.Errorf("reading Lease %s: %w", leaseName, err)
	case holder != "":
		// Someone holds it right now: theirs to release.
	default:
		if err := leases.Delete(ctx, leaseName, guarded(lease)); err != nil && !apierrors.IsNotFound(err) {
			return r, fmt.Errorf("deleting Lease %s: %w", leaseName, err)
		}
		r.LeaseDeleted = o.StateNamespace + "/" + leaseName
	}
	return r, nil
}

// tofu runs one Terraform command in dir and returns its output; a failure carries all of it.
func (c *Cluster) tofu(ctx context.Context, dir string, env []string, bin string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	cmd.Env = env
	var buf bytes.Buffer
	cmd.Stdout = &buf
	cmd.Stderr = &buf
	if err := cmd.Run(); err != nil {
		return buf.String(), fmt.Errorf("%s %s: %w\n%s", filepath.Base(bin), args[0], err, strings.TrimSpace(buf.String()))
	}
	return buf.String(), nil
}

// forbiddenHint says which grant is missing when the API server refuses the reaper.
func forbiddenHint(err error) string {
	if !apierrors.IsForbidden(err) {
		return ""
	}
	return " (bind this identity with the library's PreviewReaperAccess construct: it grants what list and reap need, and nothing more)"
}

func hasEnv(env []string, key string) bool {
	for _, e := range env {
		if strings.HasPrefix(e, key+"=") {
			return true
		}
	}
	return false
}

// decodeSecret reads a state Secret as the API server returns it (data base64-encoded).
func decodeSecret(sec *unstructured.Unstructured) (State, error) {
	raw, _, _ := unstructured.NestedStringMap(sec.Object, "data")
	data := map[string][]byte{}
	for k, v := range raw {
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			return State{Secret: sec.GetName()}, fmt.Errorf("state Secret %s: key %s is not base64: %w", sec.GetName(), k, err)
		}
		data[k] = b
	}
	return DecodeState(sec.GetName(), sec.GetLabels(), data)
}

// guarded deletes exactly the version read: if anything wrote the object since, the delete fails.
func guarded(o *unstructured.Unstructured) metav1.DeleteOptions {
	uid, rv := o.GetUID(), o.GetResourceVersion()
	return metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid, ResourceVersion: &rv}}
}
