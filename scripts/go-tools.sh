#!/usr/bin/env bash
# Builds the third-party Go tools the tests use as checkers (tools/go-tools.env)
# once per version, and prints `export AGC_<NAME>=<path>` lines:
#
#   eval "$(scripts/go-tools.sh)"     # AGC_ORAS, AGC_KUBE_SCORE, AGC_STATICCHECK
#
# Each goes to ${AGC_CACHE_DIR:-~/.cache/airgap-go-constructs}/go-tools/<name>-<version>-<go>/,
# kept apart from the Terraform toolchain's cache so adding a tool here never
# rebuilds that one. A warm run builds nothing and needs no network.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cache="${AGC_CACHE_DIR:-$HOME/.cache/airgap-go-constructs}/go-tools"
# shellcheck source=tools/go-tools.env
. "$root/tools/go-tools.env"
go_version="$(GOTOOLCHAIN=local go env GOVERSION)"
for name in ORAS KUBE_SCORE STATICCHECK; do
  pkg_var="${name}_PACKAGE" version_var="${name}_VERSION" arg_var="${name}_VERSION_ARG"
  pkg="${!pkg_var}" version="${!version_var}" version_arg="${!arg_var:-version}"
  bin="$(basename "$pkg")"
  dir="$cache/$bin-$version-$go_version"
  if [ ! -x "$dir/$bin" ]; then
    echo "[go-tools] go install $pkg@$version" >&2
    t0=$(date +%s)
    mkdir -p "$dir.partial"
    GOBIN="$dir.partial" GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod go install -trimpath "$pkg@$version" >&2
    rm -rf "$dir" && mv "$dir.partial" "$dir"
    echo "[go-tools] built $bin $version in $(( $(date +%s) - t0 )) s" >&2
  fi
  "$dir/$bin" "$version_arg" >/dev/null 2>&1 || { echo "[go-tools] $dir/$bin does not run" >&2; exit 1; }
  printf 'export AGC_%s=%q\n' "$name" "$dir/$bin"
done
