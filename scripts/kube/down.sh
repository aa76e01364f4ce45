#!/usr/bin/env bash
# Stops a control plane started by scripts/kube/up.sh, by PID, in reverse
# order, and removes its directory (certificates, etcd data, logs) unless
# --keep is given.
#
#   scripts/kube/down.sh DIR [--keep]
set -euo pipefail

log() { echo "[kube] $*" >&2; }
dir="${1:?usage: down.sh DIR [--keep]}"
keep="${2:-}"
[ -d "$dir" ] || { log "nothing to stop: $dir does not exist"; exit 0; }

stop() { # NAME
  local f="$dir/$1.pid" pid
  [ -f "$f" ] || return 0
  pid="$(cat "$f")"
  rm -f "$f"
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || { log "stopped $1 (pid $pid)"; return 0; }
    sleep 0.1
  done
  log "$1 (pid $pid) ignored SIGTERM for 10 s, sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
}
stop controller-manager
stop apiserver
stop etcd
if [ "$keep" = --keep ]; then
  log "kept $dir"
else
  rm -rf "$dir"
fi
