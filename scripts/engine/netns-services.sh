#!/usr/bin/env bash
# Starts (or stops) the engine's services in the *current* network namespace:
# the registry on $AGC_REGISTRY_ADDR (same storage and config as the host's,
# so the base images are there) and a podman Docker API service on
# RUN_DIR/podman.sock (same image storage). Meant to be run inside a namespace
# that has only loopback, e.g. `ip netns exec NAME netns-services.sh start DIR`;
# netns-run.sh uses it for one-shot commands.
#
#   netns-services.sh start RUN_DIR   # prints: export DOCKER_HOST=unix://RUN_DIR/podman.sock
#   netns-services.sh stop RUN_DIR
set -euo pipefail
dir="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=scripts/engine/lib.sh
. "$dir/lib.sh"
require_root
cmd="${1:-}" run_dir="${2:-}"
[ -n "$run_dir" ] || die "usage: netns-services.sh start|stop RUN_DIR"

case "$cmd" in
start)
  mkdir -p "$run_dir"
  ip link set lo up
  # setsid: the services outlive this script until `stop`.
  setsid docker-registry serve "$AGC_STATE_DIR/registry.yml" </dev/null >"$run_dir/registry.log" 2>&1 &
  echo $! >"$run_dir/registry.pid"
  setsid podman system service --time=0 "unix://$run_dir/podman.sock" </dev/null >"$run_dir/podman.log" 2>&1 &
  echo $! >"$run_dir/podman.pid"
  for _ in $(seq 1 "$AGC_WAIT_SECONDS"); do
    if registry_ok && curl -fsS -o /dev/null --unix-socket "$run_dir/podman.sock" http://d/_ping 2>/dev/null; then
      break
    fi
    sleep 1
  done
  registry_ok || die "registry did not start in the namespace: $(tail -5 "$run_dir/registry.log")"
  curl -fsS -o /dev/null --unix-socket "$run_dir/podman.sock" http://d/_ping ||
    die "podman did not start in the namespace: $(tail -5 "$run_dir/podman.log")"
  log "services up in network namespace: $(ip -o link | awk -F': ' '{print $2}' | tr '\n' ' ')"
  printf 'export DOCKER_HOST=%q\n' "unix://$run_dir/podman.sock"
  ;;
stop)
  for name in podman registry; do
    if [ -f "$run_dir/$name.pid" ]; then
      stop_pid "$(cat "$run_dir/$name.pid")" "$name"
      rm -f "$run_dir/$name.pid"
    fi
  done
  ;;
*) die "usage: netns-services.sh start|stop RUN_DIR" ;;
esac
