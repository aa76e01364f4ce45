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

run_dir="$(mktemp -d /run/agc-netns.XXXXXX)"
cleanup() {
  "$dir/netns-services.sh" stop "$run_dir" 2>/dev/null || true
  rm -rf "$run_dir"
}
trap cleanup EXIT
eval "$("$dir/netns-services.sh" start "$run_dir")"
export DOCKER_HOST
"$@"
