#!/usr/bin/env bash
# Runs staticcheck (tools/go-tools.env) over every Go module of ours; any
# finding fails. hello-go builds from its vendor folder, like its image.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
eval "$("$root/scripts/go-tools.sh")"
for mod in kit mirror scripts/engine/base-index examples/hello-go; do
  flags=""
  [ -d "$root/$mod/vendor" ] && flags="-mod=vendor"
  (cd "$root/$mod" && GOFLAGS="${GOFLAGS:-} $flags" "$AGC_STATICCHECK" ./...) || { echo "staticcheck: findings in $mod" >&2; exit 1; }
  echo "staticcheck: $mod clean"
done
