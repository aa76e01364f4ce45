#!/usr/bin/env bash
# Starts (or stops) the engine's services in the *current* network namespace:
# the registry on $AGC_REGISTRY_ADDR (same storage and config as the host's,
# so the base images are there) and a podman Docker API service on
# RUN_DIR/podman.sock (same image storage). Meant to be run inside a namespace
# that has only loopback, e.g. `nsenter --net=/run/netns/NAME netns-services.sh start DIR`
# (not `ip netns exec`, whose fresh /sys hides the cgroups runc needs);
# netns-run.sh uses it for one-shot commands.
#
#   netns-services.sh start RUN_DIR   # prints: export DOCKER_HOST=unix://RUN_DIR/podman.sock
#   netns-services.sh stop RUN_DIR
#
# With AGC_NETNS_ISOLATED=1 nothing is shared with the host: the registry
# starts empty with its storage in RUN_DIR/registry, listening on
# ${AGC_NETNS_REGISTRY_ADDR:-127.0.0.1:5000}, and podman keeps its images in
# RUN_DIR/podman-root. That is a far side of the gap: it has only what is
# carried to it. AGC_NETNS_REGISTRY_STORAGE serves an existing storage
# folder instead of an empty one; AGC_NETNS_PODMAN=0 starts the registry alone.
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
  run_dir="$(cd "$run_dir" && pwd)"
  ip link set lo up
  config="$AGC_STATE_DIR/registry.yml"
  podman_flags=()
  with_podman="${AGC_NETNS_PODMAN:-1}"
  if [ "${AGC_NETNS_ISOLATED:-0}" = 1 ]; then
    AGC_REGISTRY_ADDR="${AGC_NETNS_REGISTRY_ADDR:-127.0.0.1:5000}"
    config="$run_dir/registry.yml"
    mkdir -p "$run_dir/registry" "$run_dir/podman-root" "$run_dir/podman-run"
    printf 'version: 0.1\nlog: {level: info}\nstorage:\n  filesystem: {rootdirectory: %s}\n  delete: {enabled: true}\nhttp:\n  addr: %s\n' \
      "${AGC_NETNS_REGISTRY_STORAGE:-$run_dir/registry}" "$AGC_REGISTRY_ADDR" >"$config"
    podman_flags=(--root "$run_dir/podman-root" --runroot "$run_dir/podman-run")
  fi
  # setsid: the services outlive this script until `stop`; from /, so they
  # never hold on to a working directory that may be deleted under them.
  cd /
  setsid docker-registry serve "$config" </dev/null >"$run_dir/registry.log" 2>&1 &
  echo $! >"$run_dir/registry.pid"
  ns_podman_ok() { [ "$with_podman" = 0 ] || curl -fsS -o /dev/null --unix-socket "$run_dir/podman.sock" http://d/_ping 2>/dev/null; }
  if [ "$with_podman" != 0 ]; then
    setsid podman "${podman_flags[@]}" system service --time=0 "unix://$run_dir/podman.sock" </dev/null >"$run_dir/podman.log" 2>&1 &
    echo $! >"$run_dir/podman.pid"
  fi
  for _ in $(seq 1 "$AGC_WAIT_SECONDS"); do
    if registry_ok && ns_podman_ok; then
      break
    fi
    sleep 1
  done
  registry_ok || die "registry did not start in the namespace: $(tail -5 "$run_dir/registry.log")"
  ns_podman_ok || die "podman did not start in the namespace: $(tail -5 "$run_dir/podman.log")"
  log "services up in network namespace: $(ip -o link | awk -F': ' '{print $2}' | tr '\n' ' ')"
  [ "$with_podman" = 0 ] || printf 'export DOCKER_HOST=%q\n' "unix://$run_dir/podman.sock"
  printf 'export AGC_NETNS_REGISTRY=%q\n' "$AGC_REGISTRY_ADDR"
  ;;
stop)
  for name in podman registry; do
    if [ -f "$run_dir/$name.pid" ]; then
      stop_pid "$(cat "$run_dir/$name.pid")" "$name"
      rm -f "$run_dir/$name.pid"
    fi
  done
  # An isolated podman's storage keeps mounts (its overlay home, container
  # layers) after the service stops; unmount them so RUN_DIR can be removed.
  if [ -d "$run_dir" ]; then
    run_dir="$(cd "$run_dir" && pwd)"
    awk -v d="$run_dir/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do
      umount "$m" 2>/dev/null || umount -l "$m" || true
    done
  fi
  ;;
*) die "usage: netns-services.sh start|stop RUN_DIR" ;;
esac
