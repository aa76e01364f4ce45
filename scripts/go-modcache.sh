#!/usr/bin/env bash
# Fills a Go module cache with the dependency graph of every Go module of ours,
# on the connected side (install time), so tests can serve it as an offline
# GOPROXY (its cache/download tree is the proxy protocol's layout) and never
# download at run time. Idempotent: a warm cache is only verified.
#
#   scripts/go-modcache.sh            # prints the cache path
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cache="${AGC_CACHE_DIR:-$HOME/.cache/airgap-go-constructs}/gomodcache"
mkdir -p "$cache"
for mod in "$root"/examples/*/go.mod; do
  dir="$(dirname "$mod")"
  # -mod=mod: the module has vendor/, which would otherwise make `go` skip the cache.
  (cd "$dir" && GOMODCACHE="$cache" GOFLAGS=-mod=mod go mod download -json all >/dev/null)
  echo "go-modcache: $(basename "$dir") ready" >&2
done
# Our own tools with dependencies (kit/) are built by `go build` from the
# default module cache (GOFLAGS=-mod=readonly, GOPROXY=off in tests), so
# their modules are downloaded there, here, at install time.
for dir in "$root/kit"; do
  (cd "$dir" && GOFLAGS=-mod=mod go mod download all)
  echo "go-modcache: $(basename "$dir") modules in $(go env GOMODCACHE)" >&2
done
echo "$cache"
