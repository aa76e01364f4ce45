package previews

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func gz(t *testing.T, v any) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		t.Fatal(err)
	}
	w.Close()
	return b.Bytes()
}

func namespaceResource(provider string, names ...string) map[string]any {
	var instances []any
	for _, n := range names {
		instances = append(instances, map[string]any{"attributes": map[string]any{"metadata": []any{map[string]any{"name": n, "labels": map[string]string{PreviewLabel: "true"}}}}})
	}
	return map[string]any{"mode": "managed", "type": "kubernetes_namespace_v1", "name": "ns", "provider": provider, "instances": instances}
}

const k8s = `provider["registry.opentofu.org/hashicorp/kubernetes"]`

var labels = map[string]string{"tfstateSecretSuffix": "preview-a", "tfstateWorkspace": "default"}

func TestDecodeState(t *testing.T) {
	state := map[string]any{"resources": []any{
		namespaceResource(k8s, "preview-a"),
		map[string]any{"mode": "managed", "type": "kubernetes_service_v1", "provider": k8s + ".other", "instances": []any{map[string]any{}, map[string]any{}}},
		map[string]any{"mode": "managed", "type": "terraform_data", "provider": `provider["terraform.io/builtin/terraform"]`, "instances": []any{map[string]any{}}},
		map[string]any{"mode": "data", "type": "kubernetes_secret_v1", "provider": k8s, "instances": []any{map[string]any{}}},
	}}
	s, err := DecodeState("tfstate-default-preview-a", labels, map[string][]byte{"tfstate": gz(t, state)})
	if err != nil {
		t.Fatal(err)
	}
	if s.Suffix != "preview-a" || s.Workspace != "default" || s.Resources != 4 || strings.Join(s.Namespaces, ",") != "preview-a" {
		t.Fatalf("decoded %+v", s)
	}
	if len(s.Providers) != 2 || s.Providers[0].Alias != "" || s.Providers[1].Alias != "other" || s.Providers[0].LocalName() != "kubernetes" {
		t.Fatalf("providers %+v", s.Providers)
	}
	cfg, err := EmptyConfiguration(s, "airgap-state")
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(cfg, &got); err != nil {
		t.Fatal(err)
	}
	want := `{"provider":{"kubernetes":[{},{"alias":"other"}]},"terraform":{"backend":{"kubernetes":{"namespace":"airgap-state","secret_suffix":"preview-a"}},"required_providers":{"kubernetes":{"source":"registry.opentofu.org/hashicorp/kubernetes"}}}}`
	if b, _ := json.Marshal(got); string(b) != want {
		t.Fatalf("empty configuration\n got %s\nwant %s", b, want)
	}
}

func TestDecodeStateRefuses(t *testing.T) {
	for name, c := range map[string]struct {
		labels map[string]string
		data   map[string][]byte
		want   string
	}{
		"no suffix label": {map[string]string{}, map[string][]byte{"tfstate": nil}, "no tfstateSecretSuffix label"},
		"no state key":    {labels, map[string][]byte{}, `no "tfstate" key`},
		"not gzip":        {labels, map[string][]byte{"tfstate": []byte("{}")}, "not gzip"},
		"module resource": {labels, map[string][]byte{"tfstate": gz(t, map[string]any{"resources": []any{map[string]any{"module": "module.app", "mode": "managed", "type": "x", "provider": k8s}}})}, "only root-module states"},
		"odd provider":    {labels, map[string][]byte{"tfstate": gz(t, map[string]any{"resources": []any{map[string]any{"mode": "managed", "type": "x", "provider": "kubernetes"}}})}, "not a root provider address"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := DecodeState("tfstate-default-x", c.labels, c.data)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want %q", err, c.want)
			}
		})
	}
	// The backend's placeholder before the first apply is an empty state, not an error.
	if s, err := DecodeState("tfstate-default-x", labels, map[string][]byte{"tfstate": {}}); err != nil || s.Resources != 0 {
		t.Fatalf("empty: %+v %v", s, err)
	}
}

func TestExpiry(t *testing.T) {
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	for name, c := range map[string]struct {
		labels, annotations map[string]string
		want                time.Time
		err                 string
	}{
		"both":           {map[string]string{ExpiresLabel: "20261125T100000Z"}, map[string]string{ExpiresAnnotation: "2026-11-25T10:00:00Z"}, at, ""},
		"label only":     {map[string]string{ExpiresLabel: "20261125T100000Z"}, nil, at, ""},
		"none":           {nil, nil, time.Time{}, ""},
		"disagree":       {map[string]string{ExpiresLabel: "20261125T100000Z"}, map[string]string{ExpiresAnnotation: "2026-11-26T10:00:00Z"}, time.Time{}, "disagree"},
		"bad label":      {map[string]string{ExpiresLabel: "tomorrow"}, nil, time.Time{}, "not a time such as 20261203T100000Z"},
		"bad annotation": {nil, map[string]string{ExpiresAnnotation: "2026-11-25"}, time.Time{}, "not an RFC 3339 time"},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := Expiry(c.labels, c.annotations)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("got %v, want %q", err, c.err)
				}
				return
			}
			if err != nil || !got.Equal(c.want) {
				t.Fatalf("got %v %v, want %v", got, err, c.want)
			}
		})
	}
}

func TestJudge(t *testing.T) {
	now := time.Date(2026, 11, 26, 16, 0, 0, 0, time.UTC)
	preview := func(expires string) Namespace {
		n := Namespace{Labels: map[string]string{PreviewLabel: "true"}, Annotations: map[string]string{BranchAnnotation: "feature/a"}}
		if expires != "" {
			n.Labels[ExpiresLabel] = expires
		}
		return n
	}
	s := State{Secret: "tfstate-default-preview-a", Suffix: "preview-a", Namespaces: []string{"a", "b"}, recorded: map[string]Namespace{"a": preview(""), "b": preview("")}}
	for name, c := range map[string]struct {
		live    map[string]Namespace
		verdict Verdict
		reason  string
	}{
		"all expired":       {map[string]Namespace{"a": preview("20261125T100000Z"), "b": preview("20261126T160000Z")}, Expired, "expired 2026-11-26T16:00:00Z, 0s before now (2026-11-26T16:00:00Z)"},
		"one still live":    {map[string]Namespace{"a": preview("20261125T100000Z"), "b": preview("20261127T160000Z")}, Live, "expires 2026-11-27T16:00:00Z, 24h0m0s after now"},
		"one without":       {map[string]Namespace{"a": preview("20261125T100000Z"), "b": preview("")}, NoExpiry, "namespace b has no airgap-go-constructs.io/expires-at label"},
		"one not ours":      {map[string]Namespace{"a": preview("20261125T100000Z"), "b": {Labels: map[string]string{ExpiresLabel: "20261125T100000Z"}}}, NotOurs, "namespace b has no airgap-go-constructs.io/preview=true label"},
		"one gone":          {map[string]Namespace{"a": preview("20261125T100000Z")}, Drifted, "namespace b is in the state but not in the cluster"},
		"unreadable expiry": {map[string]Namespace{"a": preview("soon"), "b": preview("20261125T100000Z")}, Unreadable, "namespace a: label"},
	} {
		t.Run(name, func(t *testing.T) {
			p, ok := Judge(s, func(n string) (Namespace, bool) { v, ok := c.live[n]; return v, ok }, now)
			if !ok || p.Verdict != c.verdict || !strings.Contains(p.Reason, c.reason) {
				t.Fatalf("got %v %s %q, want %s %q", ok, p.Verdict, p.Reason, c.verdict, c.reason)
			}
			if p.Branch != "feature/a" {
				t.Fatalf("branch %q", p.Branch)
			}
			if p.Reapable() != (c.verdict == Expired) {
				t.Fatalf("reapable %v for %s", p.Reapable(), p.Verdict)
			}
		})
	}
	// A state none of whose namespaces is ours is no preview at all.
	plain := State{Secret: "tfstate-default-platform", Namespaces: []string{"platform"}}
	if _, ok := Judge(plain, func(string) (Namespace, bool) {
		return Namespace{Labels: map[string]string{ExpiresLabel: "20200101T000000Z"}}, true
	}, now); ok {
		t.Fatal("a state without preview namespaces was judged")
	}
	if _, ok := Judge(State{Secret: "tfstate-default-empty"}, func(string) (Namespace, bool) { return Namespace{}, false }, now); ok {
		t.Fatal("an empty state was judged")
	}
}

func TestOrphans(t *testing.T) {
	ns := []Namespace{
		{Name: "held", Labels: map[string]string{PreviewLabel: "true"}},
		{Name: "stray", Labels: map[string]string{PreviewLabel: "true"}, Annotations: map[string]string{BranchAnnotation: "old"}},
		{Name: "kube-system"},
	}
	got := Orphans(ns, map[string]bool{"held": true}, "airgap-state")
	if len(got) != 1 || got[0].Namespaces[0] != "stray" || got[0].Verdict != NoState || got[0].Reapable() || got[0].Branch != "old" {
		t.Fatalf("orphans %+v", got)
	}
}

func TestForbiddenHintNamesTheConstructOnlyForARefusal(t *testing.T) {
	refused := apierrors.NewForbidden(schema.GroupResource{Resource: "namespaces"}, "", errors.New("no list"))
	if h := forbiddenHint(refused); !strings.Contains(h, "PreviewReaperAccess") {
		t.Fatalf("a 403 should name the construct to bind, got %q", h)
	}
	if h := forbiddenHint(apierrors.NewNotFound(schema.GroupResource{Resource: "secrets"}, "x")); h != "" {
		t.Fatalf("a 404 is not a missing grant, got %q", h)
	}
	if h := forbiddenHint(errors.New("connection refused")); h != "" {
		t.Fatalf("a network error is not a missing grant, got %q", h)
	}
}

func TestMirrorCLIConfigInstallsFromTheMirrorAlone(t *testing.T) {
	if _, err := MirrorCLIConfig("providers"); err == nil || !strings.Contains(err.Error(), "not an absolute path") {
		t.Fatalf("a relative mirror must be refused (Terraform would resolve it against the reaper's temporary folder), got %v", err)
	}
	cfg, err := MirrorCLIConfig(`/srv/mirror "x"`)
	if err != nil {
		t.Fatal(err)
	}
	text := string(cfg)
	for _, want := range []string{`path    = "/srv/mirror \"x\""`, `"registry.opentofu.org/*/*"`, `"registry.terraform.io/*/*"`} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %s in:\n%s", want, text)
		}
	}
	if strings.Contains(text, "direct") || strings.Contains(text, "network_mirror") {
		t.Errorf("only the filesystem mirror may install providers:\n%s", text)
	}
}
