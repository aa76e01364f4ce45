package images

import (
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestParseRef(t *testing.T) {
	d := "sha256:abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789"
	for _, c := range []struct {
		in   string
		want Ref
		ok   bool
	}{
		{"127.0.0.1:5000/library/golang:1.26-bookworm@" + d, Ref{"127.0.0.1:5000", "library/golang", "1.26-bookworm", d}, true},
		{"registry.internal/team/app:1", Ref{"registry.internal", "team/app", "1", ""}, true},
		{"registry.internal/team/app@" + d, Ref{"registry.internal", "team/app", "", d}, true},
		{"app", Ref{}, false},
		{"registry.internal/app@sha256:short", Ref{}, false},
		{"registry.internal/", Ref{}, false},
	} {
		got, err := ParseRef(c.in)
		if (err == nil) != c.ok || (c.ok && got != c.want) {
			t.Errorf("ParseRef(%q) = %+v, %v", c.in, got, err)
		}
		if c.ok && got.String() != c.in {
			t.Errorf("String() = %q, want %q", got.String(), c.in)
		}
	}
}

func TestOverridesMatchWholeComponentsLongestFirst(t *testing.T) {
	o := []Override{{From: "docker.io", To: "mirror:1/dockerhub"}, {From: "docker.io/library", To: "mirror:1/library"}}
	for in, want := range map[string]string{
		"docker.io/library/golang:1": "mirror:1/library/golang:1",
		"docker.io/team/app:1":       "mirror:1/dockerhub/team/app:1",
		"docker.iox/team/app:1":      "docker.iox/team/app:1",
		"docker.io/libraryx/app:1":   "mirror:1/dockerhub/libraryx/app:1",
	} {
		r, _ := ParseRef(in)
		if got := Apply(o, r).String(); got != want {
			t.Errorf("Apply(%s) = %s, want %s", in, got, want)
		}
	}
	if _, err := ParseOverride("docker.io"); err == nil {
		t.Error("an override without = was accepted")
	}
}

func TestPlatforms(t *testing.T) {
	p, err := ParsePlatform("linux_arm64")
	if err != nil || p.String() != "linux/arm64" {
		t.Fatalf("%v %v", p, err)
	}
	v8, _ := ParsePlatform("linux/arm64/v8")
	if !v8.Matches(&ocispec.Platform{OS: "linux", Architecture: "arm64"}) {
		t.Error("arm64 without a variant is v8")
	}
	if _, err := ParsePlatform("amd64"); err == nil {
		t.Error("a platform without an os was accepted")
	}
}
