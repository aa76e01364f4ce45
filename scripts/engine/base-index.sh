#!/usr/bin/env bash
# Pushes the multi-platform index of the runtime base (linux/amd64 and
# linux/arm64, see base-index/main.go) beside the single-platform one that
# base-images.sh pushed, and writes its pinned reference to
# $AGC_STATE_DIR/base-index.json. GoImage's multi-platform tests build on it.
# The digest depends only on the base, so a second run pushes nothing new.
#
#   sudo scripts/engine/base-index.sh      # after base-images.sh
set -euo pipefail
dir="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=scripts/engine/lib.sh
. "$dir/lib.sh"
require_root
pins="$AGC_STATE_DIR/base-images.json"
[ -f "$pins" ] || die "no $pins: run scripts/engine/base-images.sh first"
runtime="$(sed -n 's/.*"runtime": *"\([^"]*\)".*/\1/p' "$pins")"
repo="${runtime%%@*}"
repo="${repo%:*}"
# Modules come from the Go proxy at install time, like every Go tool of ours.
ref="$(cd "$dir/base-index" && GOFLAGS=-mod=mod go run . -base "$runtime" -tag "$repo:nonroot-multi" -platform linux/amd64 -platform linux/arm64)"
printf '{\n  "runtime": "%s",\n  "platforms": ["linux/amd64", "linux/arm64"]\n}\n' "$ref" >"$AGC_STATE_DIR/base-index.json"
log "runtime index $ref"
