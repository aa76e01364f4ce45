package previews

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// Verdict is what the reaper makes of one preview.
type Verdict string

const (
	// Expired previews are reaped.
	Expired Verdict = "expired"
	// Live previews expire after now.
	Live Verdict = "live"
	// NoExpiry previews carry no expiry label (no createdAt at synth): never reaped.
	NoExpiry Verdict = "no-expiry"
	// NotOurs states hold a namespace without our preview label: never reaped.
	NotOurs Verdict = "not-ours"
	// Drifted states hold a namespace the cluster no longer has: left for a person.
	Drifted Verdict = "drifted"
	// Unreadable states or expiries cannot be read: left for a person.
	Unreadable Verdict = "unreadable"
	// NoState namespaces carry our label, but no state Secret in the state namespace holds them.
	NoState Verdict = "no-state"
)

// Preview is one preview environment, found through its state, and the verdict on it.
type Preview struct {
	// State is nil for a labelled namespace no state holds.
	State      *State     `json:"state,omitempty"`
	Namespaces []string   `json:"namespaces"`
	Branch     string     `json:"branch,omitempty"`
	ExpiresAt  *time.Time `json:"expiresAt,omitempty"`
	Verdict    Verdict    `json:"verdict"`
	// Reason says why, in words a log reader needs no source code for.
	Reason string `json:"reason"`
}

// Reapable says whether the reaper destroys this preview.
func (p Preview) Reapable() bool { return p.Verdict == Expired && p.State != nil }

// Name is how logs name the preview: its state Secret, or its namespace.
func (p Preview) Name() string {
	if p.State != nil {
		return p.State.Secret
	}
	return "namespace " + strings.Join(p.Namespaces, ",")
}

func isPreview(n Namespace) bool { return n.Labels[PreviewLabel] == "true" }

// Judge decides on one state. live looks a namespace up in the cluster. The
// second result is false when the state is no preview's at all (none of its
// namespaces, live or recorded, carries our preview label): such states are
// not listed, let alone touched.
func Judge(s State, live func(name string) (Namespace, bool), now time.Time) (Preview, bool) {
	p := Preview{State: &s, Namespaces: s.Namespaces}
	ours := false
	for _, name := range s.Namespaces {
		if n, ok := live(name); ok && isPreview(n) {
			ours = true
		} else if !ok && isPreview(s.recorded[name]) {
			ours = true
		}
	}
	if !ours {
		return p, false
	}
	var latest time.Time
	branches := []string{}
	for _, name := range s.Namespaces {
		if n, ok := live(name); ok && n.Annotations[BranchAnnotation] != "" && !slices.Contains(branches, n.Annotations[BranchAnnotation]) {
			branches = append(branches, n.Annotations[BranchAnnotation])
		}
	}
	sort.Strings(branches)
	p.Branch = strings.Join(branches, ",")
	for _, name := range s.Namespaces {
		n, ok := live(name)
		if !ok {
			p.Verdict, p.Reason = Drifted, fmt.Sprintf("namespace %s is in the state but not in the cluster (deleted behind Terraform's back?); run tofu in its stack to reconcile", name)
			return p, true
		}
		if !isPreview(n) {
			p.Verdict, p.Reason = NotOurs, fmt.Sprintf("namespace %s has no %s=true label, and the reaper only destroys previews", name, PreviewLabel)
			return p, true
		}
		t, err := Expiry(n.Labels, n.Annotations)
		if err != nil {
			p.Verdict, p.Reason = Unreadable, fmt.Sprintf("namespace %s: %v", name, err)
			return p, true
		}
		if t.IsZero() {
			p.Verdict, p.Reason = NoExpiry, fmt.Sprintf("namespace %s has no %s label (its PreviewEnvironment had no createdAt), so it never expires", name, ExpiresLabel)
			return p, true
		}
		// The preview goes when its last namespace expires.
		if t.After(latest) {
			latest = t
		}
	}
	p.ExpiresAt = &latest
	if latest.After(now) {
		p.Verdict, p.Reason = Live, fmt.Sprintf("expires %s, %s after now (%s)", stamp(latest), round(latest.Sub(now)), stamp(now))
	} else {
		p.Verdict, p.Reason = Expired, fmt.Sprintf("expired %s, %s before now (%s)", stamp(latest), round(now.Sub(latest)), stamp(now))
	}
	return p, true
}

// Orphans are the namespaces with our preview label that no state holds.
func Orphans(namespaces []Namespace, held map[string]bool, stateNamespace string) []Preview {
	var out []Preview
	for _, n := range namespaces {
		if !isPreview(n) || held[n.Name] {
			continue
		}
		out = append(out, Preview{
			Namespaces: []string{n.Name},
			Branch:     n.Annotations[BranchAnnotation],
			Verdict:    NoState,
			Reason:     fmt.Sprintf("no state Secret in namespace %s holds it (local state, or another state namespace), so the reaper cannot destroy it through Terraform", stateNamespace),
		})
	}
	return out
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func round(d time.Duration) time.Duration { return d.Round(time.Second) }
