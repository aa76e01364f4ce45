#!/usr/bin/env bash
# Stops the registry and the podman API service that start.sh started (by the
# PIDs in their PID files) and removes the PID files and the socket.
# Idempotent: with nothing running it just tidies up. Containers that are still
# running keep running (they belong to conmon, not to the API service).
#
#   sudo scripts/engine/stop.sh
set -euo pipefail
# shellcheck source=scripts/engine/lib.sh
. "$(dirname "$0")/lib.sh"
require_root

stop_one() {
  local pidfile="$1" match="$2" name="$3" pid
  if pid="$(read_pid "$pidfile" "$match")"; then
    stop_pid "$pid" "$name"
  elif [ -f "$pidfile" ]; then
    log "$name not running (stale $pidfile)"
  else
    log "$name not running"
  fi
  rm -f "$pidfile"
}

stop_one "$AGC_PODMAN_PID" "$AGC_PODMAN_MATCH" "podman service"
if [ -S "$AGC_PODMAN_SOCK" ] && ! podman_ok; then
  rm -f "$AGC_PODMAN_SOCK"
fi
stop_one "$AGC_REGISTRY_PID" "$AGC_REGISTRY_MATCH" registry
rm -f "$AGC_STATE_DIR/env"
