#!/usr/bin/env bash
# setup.sh, start.sh, base-images.sh and base-index.sh in order: from a bare Debian machine to
# a running engine with both base images pushed to the local registry. Each step
# is idempotent, so a second run takes about a second. Prints the DOCKER_HOST
# line on stdout:
#
#   eval "$(sudo scripts/engine/up.sh)"
set -euo pipefail
dir="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=scripts/engine/lib.sh
. "$dir/lib.sh"
require_root
t0="$(now)"
"$dir/setup.sh"
export_line="$("$dir/start.sh")"
"$dir/base-images.sh"
"$dir/base-index.sh"
log "engine ready in $(elapsed "$t0") s; pinned base images in $AGC_STATE_DIR/base-images.json"
echo "$export_line"
