#!/usr/bin/env bash
# Installs and configures a Docker-compatible container engine (Debian's podman)
# plus a local registry, for machines with no Docker daemon and no access to any
# container registry. Idempotent: a second run installs nothing and rewrites no
# file whose content is already right.
#
#   sudo scripts/engine/setup.sh
set -euo pipefail
# shellcheck source=scripts/engine/lib.sh
. "$(dirname "$0")/lib.sh"
require_root
t0="$(now)"

# podman/buildah/skopeo: the engine and its tools. runc: crun refuses the
# hybrid cgroups of these VMs. netavark + aardvark-dns + iptables: bridge
# networking (podman itself depends on no network stack). catatonit: --init.
# docker-registry: the local registry. debootstrap: the builder base image.
# uidmap: newuidmap/newgidmap. curl: health checks.
PACKAGES=(
  podman buildah skopeo runc conmon golang-github-containers-common
  netavark aardvark-dns iptables catatonit uidmap
  docker-registry debootstrap curl ca-certificates tar gzip
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -gt 0 ]; then
  log "installing: ${missing[*]}"
  # docker-registry's maintainer script would start Debian's own registry on
  # :5000 (all interfaces, its own storage), which start.sh needs for itself.
  # A policy-rc.d that denies service starts keeps the install from doing that.
  policy=/usr/sbin/policy-rc.d
  own_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# temporary, from scripts/engine/setup.sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    own_policy=1
  fi
  cleanup_policy() { if [ "$own_policy" = 1 ]; then rm -f "$policy"; fi; }
  trap cleanup_policy EXIT
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    "${missing[@]}" >/dev/null
  cleanup_policy
  trap - EXIT
  log "installed in $(elapsed "$t0") s"
else
  log "packages already installed"
fi

# Never let Debian's docker-registry service hold :5000 (on machines that boot
# with systemd or sysvinit it would start at boot).
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
  if systemctl is-enabled --quiet docker-registry 2>/dev/null || systemctl is-active --quiet docker-registry 2>/dev/null; then
    log "disabling Debian's docker-registry.service (start.sh runs its own registry)"
    systemctl disable --now docker-registry >/dev/null 2>&1 || true
  fi
elif [ -x /etc/init.d/docker-registry ] && ls /etc/rc[2-5].d/S*docker-registry >/dev/null 2>&1; then
  log "disabling Debian's docker-registry init script (start.sh runs its own registry)"
  update-rc.d docker-registry disable >/dev/null 2>&1 || true
fi

# shellcheck disable=SC2119  # no arguments: compute the limits
ensure_containers_conf || true

if write_if_changed "$AGC_REGISTRIES_DROPIN" "# Written by scripts/engine (airgap-go-constructs).
# The local registry speaks plain HTTP.
[[registry]]
location = \"$AGC_REGISTRY_ADDR\"
insecure = true"; then
  log "wrote $AGC_REGISTRIES_DROPIN"
fi

# No unqualified-search registries: a short name such as "golang" given to the
# podman CLI fails at once instead of prompting for, or trying, a public
# registry. (The Docker API itself always expands short names to docker.io, as
# Docker does; with no route to it, that pull fails.)
if write_if_changed "$AGC_SHORTNAME_DROPIN" "# Written by scripts/engine (airgap-go-constructs).
# Air gap: never search public registries for short names, never prompt.
unqualified-search-registries = []
short-name-mode = \"enforcing\""; then
  log "wrote $AGC_SHORTNAME_DROPIN"
fi

mkdir -p "$AGC_REGISTRY_ROOT" "$AGC_STATE_DIR" "$(dirname "$AGC_PODMAN_SOCK")"

log "podman $(podman version --format '{{.Client.Version}}' 2>/dev/null), runc $(runc --version | awk 'NR==1{print $3}'), registry $(docker-registry --version 2>/dev/null | awk '{print $3}')"
log "done in $(elapsed "$t0") s"
