#!/usr/bin/env bash
# Builds the offline Terraform toolchain from Go modules, once per set of
# pinned versions, and prints the shell lines that point callers at it:
#
#   eval "$(scripts/toolchain.sh)"     # sets AGC_TOFU, AGC_PROVIDER_MIRROR,
#                                      # TF_CLI_CONFIG_FILE, AGC_KUBE_APISERVER,
#                                      # AGC_KUBE_CONTROLLER_MANAGER, AGC_ETCD,
#                                      # AGC_KUBECTL
#   "$AGC_TOFU" init && "$AGC_TOFU" validate
#
# What it builds (versions: tools/versions.env, the only place they are set):
#   - OpenTofu's CLI, through the wrapper module tools/tofu;
#   - hashicorp/kubernetes and kreuzwerker/docker providers, through
#     tools/terraform-provider-kubernetes and tools/terraform-provider-docker,
#     laid out as an unpacked filesystem mirror under both registry hosts
#     (registry.opentofu.org for tofu, registry.terraform.io for terraform);
#   - a CLI config file `tofurc` whose only installation method is that
#     mirror (no `direct`), so `tofu init` never asks a registry;
#   - kube-apiserver, kube-controller-manager, etcd and a kubectl of the same
#     release for the local test control plane (scripts/kube/up.sh), through
#     tools/kubernetes.
#
# Everything goes to ${AGC_CACHE_DIR:-~/.cache/airgap-go-constructs}/toolchain/<key>/
# where <key> hashes tools/versions.env, the wrapper modules, this script and
# `go version`. A complete key dir is reused as is (a warm run builds nothing
# and needs no network); `toolchain/current` links to the last one used. Go's
# module and build caches live under .../go/ so a rebuild is faster, but an
# empty cache works too (cold build: module proxy needed, ~2.6 GB of modules).
# After a fresh build a self-test runs `tofu init`, `tofu validate` and
# `tofu providers lock -fs-mirror` inside `unshare -n` (loopback only).
#
# Log lines go to stderr, prefixed [toolchain]; stdout carries only the
# `export` lines (also written to <key>/env).
set -euo pipefail

log() { echo "[toolchain] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

root="$(cd "$(dirname "$0")/.." && pwd)"
tools="$root/tools"
cache_base="${AGC_CACHE_DIR:-$HOME/.cache/airgap-go-constructs}"
tc_root="$cache_base/toolchain"
go_cache="$cache_base/go"

GO="$(command -v go || true)"
[ -n "$GO" ] || { [ -x /usr/local/go/bin/go ] && GO=/usr/local/go/bin/go; } || die "go not found on PATH"

# --- Pinned versions -------------------------------------------------------
# shellcheck source=tools/versions.env
. "$tools/versions.env"
for v in TOFU_VERSION TOFU_MODULE_VERSION \
         KUBERNETES_PROVIDER_VERSION KUBERNETES_PROVIDER_MODULE_VERSION \
         DOCKER_PROVIDER_VERSION DOCKER_PROVIDER_MODULE_VERSION \
         KUBERNETES_VERSION KUBERNETES_MODULE_VERSION ETCD_VERSION; do
  [ -n "${!v:-}" ] || die "$v is not set in tools/versions.env"
done

# Version a go.mod requires for MODULE (single-line or block form).
gomod_require() { # FILE MODULE
  awk -v m="$2" '
    { sub(/\/\/.*/, "") }
    /^require[ \t]*\(/ { blk = 1; next }
    blk && /^\)/ { blk = 0; next }
    blk && $1 == m { print $2 }
    !blk && $1 == "require" && $2 == m { print $3 }
  ' "$1"
}
# Target "PATH VERSION" of a go.mod replace of MODULE (single-line or block).
gomod_replace() { # FILE MODULE
  awk -v m="$2" '
    { sub(/\/\/.*/, "") }
    /^replace[ \t]*\(/ { blk = 1; next }
    blk && /^\)/ { blk = 0; next }
    { line = $0; if (!blk) { if ($1 != "replace") next; sub(/^[ \t]*replace[ \t]+/, "", line) } }
    { n = split(line, f, /[ \t]+/); i = (f[1] == "" ? 2 : 1) }
    f[i] == m { for (j = i; j <= n; j++) if (f[j] == "=>") { print f[j+1], f[j+2]; break } }
  ' "$1"
}
expect() { # WHAT GOT WANT
  [ "$2" = "$3" ] || die "$1: tools/versions.env says '$3' but the wrapper has '${2:-nothing}'; run the wrapper's go get/go mod tidy or fix versions.env"
}

tofu_mod="$tools/tofu/go.mod"
k8s_mod="$tools/terraform-provider-kubernetes/go.mod"
docker_mod="$tools/terraform-provider-docker/go.mod"
kube_mod="$tools/kubernetes/go.mod"
expect "tools/tofu/go.mod require opentofu" \
  "$(gomod_require "$tofu_mod" github.com/opentofu/opentofu)" "$TOFU_MODULE_VERSION"
[ "v$TOFU_VERSION" = "$TOFU_MODULE_VERSION" ] \
  || die "TOFU_VERSION ($TOFU_VERSION) and TOFU_MODULE_VERSION ($TOFU_MODULE_VERSION) disagree"
expect "tools/terraform-provider-kubernetes/go.mod require" \
  "$(gomod_require "$k8s_mod" github.com/hashicorp/terraform-provider-kubernetes)" "$KUBERNETES_PROVIDER_MODULE_VERSION"
expect "tools/terraform-provider-docker/go.mod require" \
  "$(gomod_require "$docker_mod" github.com/terraform-providers/terraform-provider-docker)" "$DOCKER_PROVIDER_MODULE_VERSION"
expect "tools/terraform-provider-docker/go.mod replace" \
  "$(gomod_replace "$docker_mod" github.com/terraform-providers/terraform-provider-docker)" \
  "github.com/kreuzwerker/terraform-provider-docker $DOCKER_PROVIDER_MODULE_VERSION"
expect "tools/kubernetes/go.mod require k8s.io/kubernetes" \
  "$(gomod_require "$kube_mod" k8s.io/kubernetes)" "$KUBERNETES_MODULE_VERSION"
expect "tools/kubernetes/go.mod require go.etcd.io/etcd/server/v3" \
  "$(gomod_require "$kube_mod" go.etcd.io/etcd/server/v3)" "v$ETCD_VERSION"
# Every staging module must be the published one of the same release.
kube_staging="v0.${KUBERNETES_VERSION#*.}"
if bad="$(grep -E '^\s*k8s\.io/[a-z-]+ => ' "$kube_mod" | grep -v " => k8s.io/[a-z-]* $kube_staging\$")"; then
  die "tools/kubernetes/go.mod replaces staging modules with something other than $kube_staging: $bad"
fi

# --- Cache key ---------------------------------------------------------------
go_version="$(GOTOOLCHAIN=local "$GO" version)"
key="$(
  cd "$root"
  {
    for f in tools/versions.env tools/*/go.mod tools/*/go.sum tools/*/tools.go scripts/toolchain.sh; do
      printf '== %s\n' "$f"; cat "$f"
    done
    printf '== go\n%s\n' "$go_version"
  } | sha256sum | cut -c1-16
)"
dir="$tc_root/$key"
goos="$(GOTOOLCHAIN=local "$GO" env GOHOSTOS)"
goarch="$(GOTOOLCHAIN=local "$GO" env GOHOSTARCH)"
platform="${goos}_${goarch}"
mirror="$dir/mirror"
tofu="$dir/bin/tofu"
tofurc="$dir/tofurc"
k8s_rel="hashicorp/kubernetes/$KUBERNETES_PROVIDER_VERSION/$platform/terraform-provider-kubernetes_v$KUBERNETES_PROVIDER_VERSION"
docker_rel="kreuzwerker/docker/$DOCKER_PROVIDER_VERSION/$platform/terraform-provider-docker_v$DOCKER_PROVIDER_VERSION"
hosts=(registry.opentofu.org registry.terraform.io)

complete() {
  [ -f "$dir/.complete" ] && [ -x "$tofu" ] && [ -f "$tofurc" ] && [ -f "$dir/env" ] || return 1
  local h
  for h in "${hosts[@]}"; do
    [ -x "$mirror/$h/$k8s_rel" ] && [ -x "$mirror/$h/$docker_rel" ] || return 1
  done
  [ -x "$dir/bin/kube-apiserver" ] && [ -x "$dir/bin/kube-controller-manager" ] && [ -x "$dir/bin/etcd" ] && [ -x "$dir/bin/kubectl" ]
}

emit() {
  local tmp="$tc_root/.current.$$"
  ln -sfn "$key" "$tmp" && mv -Tf "$tmp" "$tc_root/current"
  cat "$dir/env"
}

mkdir -p "$tc_root"
if complete; then
  log "cached: $dir"
  emit
  exit 0
fi

# One builder at a time; a second caller waits, then finds the dir complete.
exec 9>"$tc_root/.lock"
flock 9
if complete; then
  log "cached (built by a concurrent run): $dir"
  emit
  exit 0
fi

# --- Build -----------------------------------------------------------------
log "building toolchain $key (OpenTofu $TOFU_VERSION, kubernetes $KUBERNETES_PROVIDER_VERSION, docker $DOCKER_PROVIDER_VERSION, Kubernetes $KUBERNETES_VERSION, etcd $ETCD_VERSION, $platform, $go_version)"
rm -rf "$dir"
stage="$tc_root/.stage-$key-$$"
rm -rf "$stage"
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$go_cache"

export GOTOOLCHAIN=local            # the key hashes `go version`: never switch toolchains
export GOMODCACHE="$go_cache/mod" GOCACHE="$go_cache/build"
export GOFLAGS="-mod=readonly -modcacherw -buildvcs=false"  # go.sum must be complete; cache removable with rm -rf
export CGO_ENABLED=0 GOOS="$goos" GOARCH="$goarch"
unset GOWORK GOBIN || true
export GOWORK=off

build() { # WRAPPER_DIR OUT LDFLAGS PKG
  local t0=$SECONDS
  log "go build $4 (in tools/$1)"
  # Go's own output, prefixed; its hundreds of "go: downloading" lines on a
  # cold cache are dropped (pipefail still reports a failed build).
  if ! (cd "$tools/$1" && "$GO" build -trimpath -ldflags "$3" -o "$2" "$4") 2>&1 \
      | sed -u -e '/^go: downloading /d' -e 's/^/[toolchain]   /' >&2; then
    die "go build $4 failed (output above)"
  fi
  log "built $(basename "$2") in $((SECONDS - t0)) s ($(du -h "$2" | cut -f1))"
}

# OpenTofu embeds its version from version/VERSION; without dev=no it reports
# "<version>-dev". Same ldflags as its .goreleaser.yaml.
build tofu "$stage/bin/tofu" \
  "-s -w -X github.com/opentofu/opentofu/version.dev=no" \
  github.com/opentofu/opentofu/cmd/tofu
# The kubernetes provider's release build passes -X main.Version=..., but
# main.Version is a const in its main.go, so the flag is a no-op there; kept to
# match upstream. Tofu takes the provider version from the mirror path.
build terraform-provider-kubernetes "$stage/terraform-provider-kubernetes" \
  "-s -w -X main.Version=$KUBERNETES_PROVIDER_VERSION" \
  github.com/hashicorp/terraform-provider-kubernetes
# The docker provider reads main.version (a var) into its user agent/metadata;
# same ldflags as its .goreleaser.yml.
build terraform-provider-docker "$stage/terraform-provider-docker" \
  "-s -w -X main.version=$DOCKER_PROVIDER_VERSION -X main.commit=${DOCKER_PROVIDER_MODULE_VERSION##*-}" \
  github.com/terraform-providers/terraform-provider-docker

# Kubernetes stamps its version through ldflags (what hack/lib/version.sh
# passes); without them the binaries report v0.0.0-master and the API
# server's version-dependent defaults would be wrong.
kv=k8s.io/component-base/version
kube_ldflags="-s -w -X $kv.gitVersion=v$KUBERNETES_VERSION -X $kv.gitMajor=${KUBERNETES_VERSION%%.*} -X $kv.gitMinor=$(echo "$KUBERNETES_VERSION" | cut -d. -f2) -X $kv.gitTreeState=clean"
build kubernetes "$stage/bin/kube-apiserver" "$kube_ldflags" k8s.io/kubernetes/cmd/kube-apiserver
build kubernetes "$stage/bin/kube-controller-manager" "$kube_ldflags" k8s.io/kubernetes/cmd/kube-controller-manager
build kubernetes "$stage/bin/etcd" "-s -w" go.etcd.io/etcd/server/v3
# Whatever kubectl the machine has may be releases away from the API server
# (kubectl supports one minor version of skew), so the tests use this one.
build kubernetes "$stage/bin/kubectl" "$kube_ldflags" k8s.io/kubernetes/cmd/kubectl
for b in kube-apiserver kube-controller-manager; do
  got="$("$stage/bin/$b" --version)"
  [ "$got" = "Kubernetes v$KUBERNETES_VERSION" ] || die "built $b reports '$got', expected 'Kubernetes v$KUBERNETES_VERSION'"
done
got="$("$stage/bin/kubectl" version --client)"
case "$got" in "Client Version: v$KUBERNETES_VERSION"*) ;; *) die "built kubectl reports '$got', expected v$KUBERNETES_VERSION" ;; esac
got="$("$stage/bin/etcd" --version)"
case "$got" in "etcd Version: $ETCD_VERSION"*) ;; *) die "built etcd reports '$got', expected etcd $ETCD_VERSION" ;; esac

# (No head -n1 here: with pipefail, tofu's SIGPIPE would end the script.)
got="$(TF_CLI_CONFIG_FILE=/dev/null "$stage/bin/tofu" version -no-color)"
got="${got%%$'\n'*}"
[ "$got" = "OpenTofu v$TOFU_VERSION" ] || die "built tofu reports '$got', expected 'OpenTofu v$TOFU_VERSION'"

for h in "${hosts[@]}"; do
  mkdir -p "$(dirname "$stage/mirror/$h/$k8s_rel")" "$(dirname "$stage/mirror/$h/$docker_rel")"
  # Hard links: one copy on disk serves both hosts (same bytes, same h1 hash).
  ln -f "$stage/terraform-provider-kubernetes" "$stage/mirror/$h/$k8s_rel" 2>/dev/null \
    || cp "$stage/terraform-provider-kubernetes" "$stage/mirror/$h/$k8s_rel"
  ln -f "$stage/terraform-provider-docker" "$stage/mirror/$h/$docker_rel" 2>/dev/null \
    || cp "$stage/terraform-provider-docker" "$stage/mirror/$h/$docker_rel"
done
rm -f "$stage/terraform-provider-kubernetes" "$stage/terraform-provider-docker"

# Paths inside tofurc/env are the final ones, so move first, test after.
mv -T "$stage" "$dir"
trap - EXIT

cat > "$tofurc" <<EOF
# Written by scripts/toolchain.sh: install providers only from the local
# filesystem mirror; there is no "direct" method, so nothing asks a registry.
provider_installation {
  filesystem_mirror {
    path = "$mirror"
  }
}
disable_checkpoint = true
EOF
{
  printf 'export AGC_TOFU=%q\n' "$tofu"
  printf 'export AGC_PROVIDER_MIRROR=%q\n' "$mirror"
  printf 'export TF_CLI_CONFIG_FILE=%q\n' "$tofurc"
  printf 'export AGC_KUBE_APISERVER=%q\n' "$dir/bin/kube-apiserver"
  printf 'export AGC_KUBE_CONTROLLER_MANAGER=%q\n' "$dir/bin/kube-controller-manager"
  printf 'export AGC_ETCD=%q\n' "$dir/bin/etcd"
  printf 'export AGC_KUBECTL=%q\n' "$dir/bin/kubectl"
} > "$dir/env"

# --- Self-test, offline ------------------------------------------------------
selftest() {
  local work="$1"
  cat > "$work/main.tf" <<EOF
terraform {
  required_providers {
    kubernetes = {
      source  = "kubernetes"
      version = "$KUBERNETES_PROVIDER_VERSION"
    }
    docker = {
      source  = "kreuzwerker/docker"
      version = "$DOCKER_PROVIDER_VERSION"
    }
  }
}

provider "kubernetes" {}
provider "docker" {}

# validate loads both providers' schemas, so both binaries must start.
resource "kubernetes_namespace_v1" "selftest" {
  metadata {
    name = "selftest"
  }
}
resource "docker_image" "selftest" {
  name = "127.0.0.1:5000/selftest:latest"
}
EOF
  cd "$work"
  "$tofu" init -input=false -no-color
  "$tofu" validate -no-color
  "$tofu" providers -no-color
  # Lock with hashes taken from the mirror itself, as an air-gapped user would.
  rm -f .terraform.lock.hcl
  "$tofu" providers lock -no-color -fs-mirror="$mirror" -platform="$platform"
  grep -q "registry.opentofu.org/hashicorp/kubernetes\"" .terraform.lock.hcl
  grep -q "version *= \"$KUBERNETES_PROVIDER_VERSION\"" .terraform.lock.hcl
  grep -q "version *= \"$DOCKER_PROVIDER_VERSION\"" .terraform.lock.hcl
  [ "$(grep -c '"h1:' .terraform.lock.hcl)" -ge 2 ]
}

if unshare -n true 2>/dev/null; then
  netns=(unshare -n)
elif unshare -rn true 2>/dev/null; then
  netns=(unshare -rn)
else
  netns=()
  log "WARNING: cannot create a network namespace (unshare -n); self-test runs with the network"
fi
work="$(mktemp -d)"
log "self-test: tofu init/validate/providers lock -fs-mirror in ${netns[*]:-the host network}"
export -f selftest
export tofu mirror platform KUBERNETES_PROVIDER_VERSION DOCKER_PROVIDER_VERSION
# shellcheck disable=SC2016 # $1 is for the inner bash
if ! "${netns[@]}" env -u TF_PLUGIN_CACHE_DIR -u TF_DATA_DIR TF_CLI_CONFIG_FILE="$tofurc" \
     CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1 \
     bash -c 'set -euo pipefail; selftest "$1"' selftest "$work" > "$dir/selftest.log" 2>&1; then
  sed 's/^/[toolchain]   /' "$dir/selftest.log" >&2
  rm -rf "$work"
  die "self-test failed (log: $dir/selftest.log); $dir stays incomplete and is rebuilt next run"
fi
cp "$work/.terraform.lock.hcl" "$dir/providers.lock.hcl"
rm -rf "$work"
log "self-test passed; h1 hashes recorded in $dir/providers.lock.hcl"

touch "$dir/.complete"

# Other keys are older pins (or older scripts); with Go's build cache warm a
# rebuild takes seconds, so keep only this one. Leftover stages of killed runs
# go too (we hold the lock, so no other build is running).
for old in "$tc_root"/* "$tc_root"/.stage-*; do
  if [ ! -d "$old" ] || [ -L "$old" ] || [ "$old" = "$dir" ]; then continue; fi
  case "$(basename "$old")" in
    [0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]|.stage-*)
      log "removing old toolchain $(basename "$old")"; rm -rf "$old" ;;
  esac
done
log "done: $dir ($(du -sh "$dir" | cut -f1); Go module cache $(du -sh "$GOMODCACHE" | cut -f1), build cache $(du -sh "$GOCACHE" | cut -f1))"
emit
