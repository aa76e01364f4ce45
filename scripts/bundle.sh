#!/usr/bin/env bash
# Makes an offline bundle on the connected side: the full module graph of each
# Go module dir given (and any -toolchain files), sealed with SHA256SUMS and a
# manifest, by mirror/cmd/offline-bundle. Prints the pin (sha256 of
# SHA256SUMS) on stdout; everything else goes to stderr.
#
#   npm run bundle -- [-out DIR] [-toolchain go1.26.0.linux-amd64.tar.gz]... examples/hello-go
#
# -out defaults to ./bundles/<name of the first module dir>. go runs with your
# GOPROXY/GOSUMDB/GONOSUMDB/GOPRIVATE, so this is the step that needs the
# network (or a GOPROXY=file:// copy of a module cache).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
flags=() dirs=() out="" first=""
while [ $# -gt 0 ]; do
  case "$1" in
    -out) out="$2"; shift 2 ;;
    -toolchain) flags+=(-toolchain "$2"); shift 2 ;;
    -*) echo "bundle: unknown flag $1" >&2; exit 2 ;;
    *) [ -n "$first" ] || first="$1"; dirs+=("$(cd "$1" && pwd)"); shift ;;
  esac
done
[ -n "$first" ] || { echo "usage: npm run bundle -- [-out DIR] [-toolchain FILE]... MODULE_DIR..." >&2; exit 2; }
out="${out:-bundles/$(basename "$(cd "$first" && pwd)")}"
bin="$(mktemp -d)/offline-bundle"
trap 'rm -rf "$(dirname "$bin")"' EXIT
(cd "$root/mirror" && CGO_ENABLED=0 GOTOOLCHAIN=local GOWORK=off go build -trimpath -o "$bin" ./cmd/offline-bundle)
"$bin" -out "$out" "${flags[@]}" "${dirs[@]}"
