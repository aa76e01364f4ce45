#!/usr/bin/env bash
# Runs a command inside a fresh network namespace that has only loopback, with
# the engine the tests need brought up *inside* it: the registry on
# 127.0.0.1:5000 (same storage as the host's, so the base images are there) and
# a podman Docker API service on its own socket (same image storage). Nothing
# in the namespace can reach anything but itself, which is the point: a step
# that works here needs no network.
#
#   scripts/engine/netns-run.sh -- tofu apply ...
# The command sees DOCKER_HOST set to the namespace's podman socket.
set -euo pipefail
dir="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=scripts/engine/lib.sh
. "$dir/lib.sh"
require_root
[ "${1:-}" = "--" ] && shift
[ $# -gt 0 ] || die "usage: netns-run.sh -- COMMAND [ARGS...]"

if [ -z "${AGC_IN_NETNS:-}" ]; then
  AGC_IN_NETNS=1 exec unshare --net --fork -- "$0" -- "$@"
fi

ip link set lo up
run_dir="$(mktemp -d /run/agc-netns.XXXXXX)"
cleanup() {
  [ -f "$run_dir/podman.pid" ] && kill "$(cat "$run_dir/podman.pid")" 2>/dev/null || true
  [ -f "$run_dir/registry.pid" ] && kill "$(cat "$run_dir/registry.pid")" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$run_dir"
}
trap cleanup EXIT

docker-registry serve "$AGC_STATE_DIR/registry.yml" >"$run_dir/registry.log" 2>&1 &
echo $! >"$run_dir/registry.pid"
podman system service --time=0 "unix://$run_dir/podman.sock" >"$run_dir/podman.log" 2>&1 &
echo $! >"$run_dir/podman.pid"

for _ in $(seq 1 "$AGC_WAIT_SECONDS"); do
  if curl -fsS -o /dev/null "http://$AGC_REGISTRY_ADDR/v2/" 2>/dev/null &&
    curl -fsS -o /dev/null --unix-socket "$run_dir/podman.sock" http://d/_ping 2>/dev/null; then
    break
  fi
  sleep 1
done
curl -fsS -o /dev/null "http://$AGC_REGISTRY_ADDR/v2/" || die "registry did not start in the namespace: $(tail -5 "$run_dir/registry.log")"
curl -fsS -o /dev/null --unix-socket "$run_dir/podman.sock" http://d/_ping || die "podman did not start in the namespace: $(tail -5 "$run_dir/podman.log")"
log "network namespace up: $(ip -o link | awk -F': ' '{print $2}' | tr '\n' ' ')"

export DOCKER_HOST="unix://$run_dir/podman.sock"
"$@"
