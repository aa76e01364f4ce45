// Package previews finds the preview environments a cluster holds, from
// their namespaces' labels and the state Secrets of OpenTofu's kubernetes
// backend, and reaps the expired ones through Terraform itself: an empty
// configuration applied with the preview's own backend destroys everything
// its state holds, so nothing is deleted behind Terraform's back.
package previews

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"time"
)

// The labels and annotations PreviewEnvironment writes on its namespace.
const (
	PreviewLabel      = "airgap-go-constructs.io/preview"
	ExpiresLabel      = "airgap-go-constructs.io/expires-at"
	ExpiresAnnotation = "airgap-go-constructs.io/expires-at"
	BranchAnnotation  = "airgap-go-constructs.io/branch"
	// expiresLabelLayout is the basic ISO form: a label value cannot hold ":".
	expiresLabelLayout = "20060102T150405Z"
)

// The labels OpenTofu's (and Terraform's) kubernetes backend puts on its state Secrets.
const (
	suffixLabel    = "tfstateSecretSuffix"
	workspaceLabel = "tfstateWorkspace"
	stateKey       = "tfstate"
)

// State is what the reaper needs from one state Secret.
type State struct {
	// Secret is the Secret's name, tfstate-<workspace>-<suffix>.
	Secret    string `json:"secret"`
	Suffix    string `json:"secretSuffix"`
	Workspace string `json:"workspace"`
	// Namespaces are the kubernetes_namespace(_v1) objects the state manages, sorted.
	Namespaces []string `json:"namespaces"`
	// Providers are the provider configurations its resources were made with.
	Providers []ProviderConfig `json:"-"`
	// Resources counts the managed resource instances.
	Resources int `json:"resources"`
	// recorded are the namespaces' labels as the state last saw them.
	recorded map[string]Namespace
}

// Namespace is a namespace's name and metadata, live or as a state recorded it.
type Namespace struct {
	Name        string
	Labels      map[string]string
	Annotations map[string]string
}

// ProviderConfig is one provider configuration a state refers to.
type ProviderConfig struct {
	// Source is the full source address, registry.opentofu.org/hashicorp/kubernetes.
	Source string
	// Alias is empty for the default configuration.
	Alias string
}

// LocalName is the name the empty configuration declares the provider under: its type.
func (p ProviderConfig) LocalName() string {
	return p.Source[strings.LastIndex(p.Source, "/")+1:]
}

type rawState struct {
	Resources []struct {
		Module    string `json:"module"`
		Mode      string `json:"mode"`
		Type      string `json:"type"`
		Provider  string `json:"provider"`
		Instances []struct {
			Attributes struct {
				Metadata []struct {
					Name        string            `json:"name"`
					Labels      map[string]string `json:"labels"`
					Annotations map[string]string `json:"annotations"`
				} `json:"metadata"`
			} `json:"attributes"`
		} `json:"instances"`
	} `json:"resources"`
}

var providerAddr = regexp.MustCompile(`^provider\["([^"\]]+)"\](?:\.([A-Za-z0-9_-]+))?$`)

// DecodeState reads the gzip-compressed state the kubernetes backend keeps
// under the Secret's "tfstate" key.
func DecodeState(secret string, labels map[string]string, data map[string][]byte) (State, error) {
	s := State{Secret: secret, Suffix: labels[suffixLabel], Workspace: labels[workspaceLabel]}
	if s.Workspace == "" {
		s.Workspace = "default"
	}
	if s.Suffix == "" {
		return s, fmt.Errorf("the Secret %s has no %s label, so it is no state Secret of the kubernetes backend", secret, suffixLabel)
	}
	raw, ok := data[stateKey]
	if !ok {
		return s, fmt.Errorf("state Secret %s has no %q key", secret, stateKey)
	}
	if len(raw) == 0 {
		// The backend writes an empty Secret before the first state.
		return s, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return s, fmt.Errorf("state Secret %s: state is not gzip: %w", secret, err)
	}
	body, err := io.ReadAll(zr)
	if err != nil {
		return s, fmt.Errorf("state Secret %s: %w", secret, err)
	}
	var st rawState
	if err := json.Unmarshal(body, &st); err != nil {
		return s, fmt.Errorf("state Secret %s: state is not JSON: %w", secret, err)
	}
	providers := map[ProviderConfig]bool{}
	for _, r := range st.Resources {
		if r.Mode != "managed" {
			continue
		}
		if r.Module != "" {
			return s, fmt.Errorf("state Secret %s: resource %s.%s is in %s; only root-module states are reaped (destroy it with its own configuration)", secret, r.Module, r.Type, r.Module)
		}
		m := providerAddr.FindStringSubmatch(r.Provider)
		if m == nil {
			return s, fmt.Errorf("state Secret %s: resource %s has provider %q, which is not a root provider address", secret, r.Type, r.Provider)
		}
		if !strings.HasPrefix(m[1], "terraform.io/builtin/") {
			providers[ProviderConfig{Source: m[1], Alias: m[2]}] = true
		}
		s.Resources += len(r.Instances)
		if r.Type == "kubernetes_namespace_v1" || r.Type == "kubernetes_namespace" {
			for _, in := range r.Instances {
				if len(in.Attributes.Metadata) > 0 && in.Attributes.Metadata[0].Name != "" {
					m := in.Attributes.Metadata[0]
					s.Namespaces = append(s.Namespaces, m.Name)
					if s.recorded == nil {
						s.recorded = map[string]Namespace{}
					}
					s.recorded[m.Name] = Namespace{Name: m.Name, Labels: m.Labels, Annotations: m.Annotations}
				}
			}
		}
	}
	sort.Strings(s.Namespaces)
	for p := range providers {
		s.Providers = append(s.Providers, p)
	}
	sort.Slice(s.Providers, func(i, j int) bool {
		a, b := s.Providers[i], s.Providers[j]
		return a.Source < b.Source || (a.Source == b.Source && a.Alias < b.Alias)
	})
	return s, nil
}

// EmptyConfiguration is the Terraform JSON configuration that, applied with
// the state's own backend, destroys everything the state holds: the backend,
// and each provider it refers to, configured from the environment
// (KUBE_CONFIG_PATH and the like), with no resources.
func EmptyConfiguration(s State, stateNamespace string) ([]byte, error) {
	required := map[string]any{}
	providers := map[string][]map[string]string{}
	for _, p := range s.Providers {
		name := p.LocalName()
		if prev, ok := required[name]; ok && prev.(map[string]string)["source"] != p.Source {
			return nil, fmt.Errorf("state %s uses two providers named %s (%s and %s)", s.Secret, name, prev.(map[string]string)["source"], p.Source)
		}
		required[name] = map[string]string{"source": p.Source}
		block := map[string]string{}
		if p.Alias != "" {
			block["alias"] = p.Alias
		}
		providers[name] = append(providers[name], block)
	}
	cfg := map[string]any{
		"terraform": map[string]any{
			"backend": map[string]any{"kubernetes": map[string]string{"secret_suffix": s.Suffix, "namespace": stateNamespace}},
		},
	}
	if len(required) > 0 {
		cfg["terraform"].(map[string]any)["required_providers"] = required
		cfg["provider"] = providers
	}
	return json.MarshalIndent(cfg, "", "  ")
}

// Expiry reads a preview namespace's expiry: the label (what selectors see),
// checked against the annotation's RFC 3339 form when both are there.
func Expiry(labels, annotations map[string]string) (time.Time, error) {
	l, hasLabel := labels[ExpiresLabel]
	a, hasAnnotation := annotations[ExpiresAnnotation]
	if !hasLabel && !hasAnnotation {
		return time.Time{}, nil
	}
	var t time.Time
	if hasLabel {
		lt, err := time.Parse(expiresLabelLayout, l)
		if err != nil {
			return time.Time{}, fmt.Errorf("label %s is %q, not a time such as 20261203T100000Z", ExpiresLabel, l)
		}
		t = lt
	}
	if hasAnnotation {
		at, err := time.Parse(time.RFC3339, a)
		if err != nil {
			return time.Time{}, fmt.Errorf("annotation %s is %q, not an RFC 3339 time", ExpiresAnnotation, a)
		}
		if hasLabel && !at.Equal(t) {
			return time.Time{}, fmt.Errorf("label %s (%s) and annotation %s (%s) disagree", ExpiresLabel, l, ExpiresAnnotation, a)
		}
		t = at
	}
	return t.UTC(), nil
}
