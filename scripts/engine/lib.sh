# shellcheck shell=bash
# shellcheck disable=SC2034  # the AGC_* settings are used by the scripts that source this
# Shared settings and helpers for scripts/engine/*.sh. Sourced, never run.
#
# Every path and address can be overridden from the environment:
#   AGC_STATE_DIR      PID files, logs, registry config, base-images.json
#   AGC_REGISTRY_ADDR  host:port of the local registry
#   AGC_REGISTRY_ROOT  registry storage
#   AGC_PODMAN_SOCK    podman's Docker-compatible API socket
#   AGC_CACHE_DIR      cache of built base-image archives
#   AGC_WAIT_SECONDS   how long start.sh waits for each service

AGC_STATE_DIR="${AGC_STATE_DIR:-/run/airgap-go-constructs}"
AGC_REGISTRY_ADDR="${AGC_REGISTRY_ADDR:-127.0.0.1:5000}"
AGC_REGISTRY_ROOT="${AGC_REGISTRY_ROOT:-/var/lib/airgap-registry}"
AGC_PODMAN_SOCK="${AGC_PODMAN_SOCK:-/run/podman/podman.sock}"
AGC_CACHE_DIR="${AGC_CACHE_DIR:-${HOME:-/root}/.cache/airgap-go-constructs}"
AGC_WAIT_SECONDS="${AGC_WAIT_SECONDS:-60}"

AGC_CONTAINERS_CONF=/etc/containers/containers.conf
AGC_REGISTRIES_DROPIN=/etc/containers/registries.conf.d/50-local-registry.conf
AGC_SHORTNAME_DROPIN=/etc/containers/registries.conf.d/99-airgap-no-search.conf

export DEBIAN_FRONTEND=noninteractive
export LC_ALL=C

AGC_SCRIPT="$(basename "${0:-engine}" .sh)"

log() { printf '[%s] %s\n' "$AGC_SCRIPT" "$*" >&2; }
die() { printf '[%s] ERROR: %s\n' "$AGC_SCRIPT" "$*" >&2; exit 1; }

require_root() {
  [ "$(id -u)" = 0 ] || die "must run as root (it installs packages and writes /etc/containers)"
}

# Seconds since the epoch with fractions, for timings.
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# Hard rlimit of this shell ("unlimited" as a large number).
hard_limit() {
  local v
  v="$(ulimit -H "$1")"
  if [ "$v" = unlimited ]; then echo 9223372036854775807; else echo "$v"; fi
}
min() { if [ "$1" -le "$2" ]; then echo "$1"; else echo "$2"; fi; }

# The rlimits podman's conmon and runc really have when started from this
# shell. podman (containers/common) sets its own limits at start-up, and only
# lowering works here (no CAP_SYS_RESOURCE):
#   nofile: it sets 1048576, else keeps the hard limit -> min(ulimit -Hn, 1048576)
#   nproc:  it sets /proc/sys/kernel/pid_max           -> min(ulimit -Hu, pid_max)
# A container asking for more fails with "error setting rlimit type 7" (nofile)
# or "type 6" (nproc).
podman_nofile() { min "$(hard_limit -n)" 1048576; }
podman_nproc() { min "$(hard_limit -u)" "$(cat /proc/sys/kernel/pid_max 2>/dev/null || echo 32768)"; }

# Writes $2 to file $1 only when the content differs. Returns 0 when it wrote.
write_if_changed() {
  local path="$1" content="$2"
  if [ -f "$path" ] && [ "$(cat "$path")" = "$content" ]; then
    return 1
  fi
  mkdir -p "$(dirname "$path")"
  printf '%s\n' "$content" >"$path.tmp.$$"
  mv -f "$path.tmp.$$" "$path"
  return 0
}

# /etc/containers/containers.conf with rlimits no higher than conmon's: runc
# cannot raise them (no CAP_SYS_RESOURCE in these VMs), so a higher value fails
# every container start.
# Optional $1 $2: nofile and nproc to use instead of the computed ones.
containers_conf_content() {
  local nofile="${1:-$(podman_nofile)}" nproc="${2:-$(podman_nproc)}"
  cat <<EOF
# Written by scripts/engine (airgap-go-constructs). Do not edit: setup.sh and
# start.sh rewrite it from this machine's limits: ulimit -Hn = $(ulimit -Hn),
# ulimit -Hu = $(ulimit -Hu), kernel.pid_max = $(cat /proc/sys/kernel/pid_max),
# capped as podman caps its own (see lib.sh).
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]

[engine]
# crun refuses hybrid cgroups; runc works with cgroupfs.
runtime = "runc"
cgroup_manager = "cgroupfs"
# No systemd journal on these machines.
events_logger = "file"

[engine.runtimes]
runc = ["/usr/sbin/runc"]
EOF
}

# Returns 0 when it (re)wrote the file.
ensure_containers_conf() {
  local nofile="${1:-$(podman_nofile)}" nproc="${2:-$(podman_nproc)}"
  if write_if_changed "$AGC_CONTAINERS_CONF" "$(containers_conf_content "$nofile" "$nproc")"; then
    log "wrote $AGC_CONTAINERS_CONF (default_ulimits nofile=$nofile, nproc=$nproc)"
    return 0
  fi
  return 1
}

# Is $1 a live process whose command line contains $2?
pid_alive() {
  local pid="$1" want="$2"
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$want"
}

# PID from a PID file when that process is alive and is what we expect.
read_pid() {
  local file="$1" want="$2" pid
  [ -f "$file" ] || return 1
  pid="$(cat "$file" 2>/dev/null || true)"
  pid_alive "$pid" "$want" || return 1
  echo "$pid"
}

registry_ok() {
  curl -fsS -o /dev/null --max-time 3 "http://$AGC_REGISTRY_ADDR/v2/" 2>/dev/null
}

podman_ok() {
  [ -S "$AGC_PODMAN_SOCK" ] &&
    [ "$(curl -fsS --max-time 5 --unix-socket "$AGC_PODMAN_SOCK" http://d/_ping 2>/dev/null)" = OK ]
}

AGC_REGISTRY_CONF="$AGC_STATE_DIR/registry.yml"
AGC_REGISTRY_PID="$AGC_STATE_DIR/registry.pid"
AGC_REGISTRY_LOG="$AGC_STATE_DIR/registry.log"
AGC_PODMAN_PID="$AGC_STATE_DIR/podman.pid"
AGC_PODMAN_LOG="$AGC_STATE_DIR/podman.log"
AGC_REGISTRY_MATCH="docker-registry serve"
AGC_PODMAN_MATCH="podman system service"

# Sends SIGTERM to $1, waits up to 20 s, then SIGKILL. $2 names it in the log.
stop_pid() {
  local pid="$1" name="$2" i
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 100); do
    [ -d "/proc/$pid" ] || { log "stopped $name (pid $pid)"; return 0; }
    # A zombie whose parent has not reaped it yet is as good as stopped.
    if [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ]; then
      log "stopped $name (pid $pid)"; return 0
    fi
    sleep 0.2
  done
  log "$name (pid $pid) ignored SIGTERM for 20 s, sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
}
