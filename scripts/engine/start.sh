#!/usr/bin/env bash
# Starts the local registry and podman's Docker-compatible API service in the
# background, each with a PID file and a log under $AGC_STATE_DIR, and waits
# until both answer. Does nothing for a service that is already running and
# healthy; cleans up after stale PID files. Prints the DOCKER_HOST line on
# stdout (logs go to stderr), so this works:
#
#   eval "$(sudo scripts/engine/start.sh)"
set -euo pipefail
# shellcheck source=scripts/engine/lib.sh
. "$(dirname "$0")/lib.sh"
require_root
t0="$(now)"

for c in podman docker-registry curl; do
  command -v "$c" >/dev/null || die "$c not found: run scripts/engine/setup.sh first"
done
[ -f "$AGC_REGISTRIES_DROPIN" ] || die "$AGC_REGISTRIES_DROPIN missing: run scripts/engine/setup.sh first"

mkdir -p "$AGC_STATE_DIR" "$AGC_REGISTRY_ROOT" "$(dirname "$AGC_PODMAN_SOCK")"
# The service inherits this shell's hard limits; keep containers.conf within them.
# shellcheck disable=SC2119  # no arguments: compute the limits
ensure_containers_conf || true

# Starts "$@" in a new session, detached from this shell, logging to $2 and
# recording its PID in $1 (the wrapper writes its own PID and then execs, so
# the PID file names the real process).
start_bg() {
  local pidfile="$1" logfile="$2"
  shift 2
  printf '\n==== %s starting: %s\n' "$(date -u +%FT%TZ)" "$*" >>"$logfile"
  # From /: a long-lived service must not keep the caller's working directory,
  # which may be a clone that is deleted later (conmon then fails every start
  # with "Failed to get working directory").
  # shellcheck disable=SC2016  # $$, $0 and $@ belong to the inner bash
  (cd / && exec setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "$@") >>"$logfile" 2>&1 </dev/null &
  disown || true
}

# Waits until check "$1" passes while the process in PID file $2 lives.
wait_for() {
  local check="$1" pidfile="$2" match="$3" name="$4" logfile="$5" deadline pid=""
  deadline=$(( $(date +%s) + AGC_WAIT_SECONDS ))
  while :; do
    if "$check"; then return 0; fi
    pid="$(cat "$pidfile" 2>/dev/null || true)"
    if [ -n "$pid" ] && ! pid_alive "$pid" "$match"; then
      log "$name exited during start-up; last lines of $logfile:"
      tail -n 20 "$logfile" >&2 || true
      return 1
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      log "$name did not answer within $AGC_WAIT_SECONDS s; last lines of $logfile:"
      tail -n 20 "$logfile" >&2 || true
      return 1
    fi
    sleep 0.2
  done
}

# ---- registry ---------------------------------------------------------------
registry_conf_changed=0
if write_if_changed "$AGC_REGISTRY_CONF" "# Written by scripts/engine/start.sh (airgap-go-constructs).
version: 0.1
log:
  level: info
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: $AGC_REGISTRY_ROOT
  delete:
    enabled: true
http:
  addr: $AGC_REGISTRY_ADDR
  headers:
    X-Content-Type-Options: [nosniff]"; then
  registry_conf_changed=1
fi

reg_pid="$(read_pid "$AGC_REGISTRY_PID" "$AGC_REGISTRY_MATCH" || true)"
if [ -n "$reg_pid" ] && [ "$registry_conf_changed" = 1 ]; then
  log "registry config changed, restarting registry (pid $reg_pid)"
  stop_pid "$reg_pid" registry
  rm -f "$AGC_REGISTRY_PID"
  reg_pid=""
fi
if [ -n "$reg_pid" ] && ! registry_ok; then
  # Maybe still starting: give it a moment before replacing it.
  if ! wait_for registry_ok "$AGC_REGISTRY_PID" "$AGC_REGISTRY_MATCH" registry "$AGC_REGISTRY_LOG"; then
    log "registry (pid $reg_pid) is not healthy, restarting it"
    stop_pid "$reg_pid" registry
    rm -f "$AGC_REGISTRY_PID"
    reg_pid=""
  fi
fi
if [ -n "$reg_pid" ]; then
  log "registry already running (pid $reg_pid) on http://$AGC_REGISTRY_ADDR"
else
  if [ -f "$AGC_REGISTRY_PID" ]; then
    log "removing stale $AGC_REGISTRY_PID"
    rm -f "$AGC_REGISTRY_PID"
  fi
  if registry_ok; then
    die "something else already answers on http://$AGC_REGISTRY_ADDR/v2/: $(ss -ltnpH "sport = :${AGC_REGISTRY_ADDR##*:}" 2>/dev/null | awk '{print $NF}' | head -n1). Stop it (e.g. Debian's docker-registry service) and re-run."
  fi
  log "starting registry on $AGC_REGISTRY_ADDR (storage $AGC_REGISTRY_ROOT, log $AGC_REGISTRY_LOG)"
  start_bg "$AGC_REGISTRY_PID" "$AGC_REGISTRY_LOG" docker-registry serve "$AGC_REGISTRY_CONF"
  wait_for registry_ok "$AGC_REGISTRY_PID" "$AGC_REGISTRY_MATCH" registry "$AGC_REGISTRY_LOG" ||
    die "registry failed to start"
  log "registry up (pid $(cat "$AGC_REGISTRY_PID"))"
fi

# ---- podman API service -----------------------------------------------------
pod_pid="$(read_pid "$AGC_PODMAN_PID" "$AGC_PODMAN_MATCH" || true)"
if [ -n "$pod_pid" ]; then
  # podman reads its configuration once, at start: a service started before
  # the insecure-registry drop-in was written fails pushes with "server gave
  # HTTP response to HTTPS client". Restart it when any config is newer.
  for f in "$AGC_CONTAINERS_CONF" "$AGC_REGISTRIES_DROPIN" "$AGC_SHORTNAME_DROPIN" /etc/containers/registries.conf /etc/containers/storage.conf; do
    if [ -f "$f" ] && [ "$f" -nt "$AGC_PODMAN_PID" ]; then
      log "$f changed after the podman service started, restarting it (pid $pod_pid)"
      stop_pid "$pod_pid" "podman service"
      rm -f "$AGC_PODMAN_PID"
      pod_pid=""
      break
    fi
  done
fi
if [ -n "$pod_pid" ] && ! podman_ok; then
  if ! wait_for podman_ok "$AGC_PODMAN_PID" "$AGC_PODMAN_MATCH" "podman service" "$AGC_PODMAN_LOG"; then
    log "podman service (pid $pod_pid) is not healthy, restarting it"
    stop_pid "$pod_pid" "podman service"
    rm -f "$AGC_PODMAN_PID"
    pod_pid=""
  fi
fi
if [ -n "$pod_pid" ]; then
  log "podman service already running (pid $pod_pid) on unix://$AGC_PODMAN_SOCK"
else
  if [ -f "$AGC_PODMAN_PID" ]; then
    log "removing stale $AGC_PODMAN_PID"
    rm -f "$AGC_PODMAN_PID"
  fi
  if podman_ok; then
    die "another process already serves $AGC_PODMAN_SOCK (a systemd podman.socket?). Stop it and re-run."
  fi
  if [ -e "$AGC_PODMAN_SOCK" ]; then
    log "removing stale socket $AGC_PODMAN_SOCK"
    rm -f "$AGC_PODMAN_SOCK"
  fi
  log "starting podman system service on unix://$AGC_PODMAN_SOCK (log $AGC_PODMAN_LOG)"
  start_bg "$AGC_PODMAN_PID" "$AGC_PODMAN_LOG" podman system service --time=0 "unix://$AGC_PODMAN_SOCK"
  wait_for podman_ok "$AGC_PODMAN_PID" "$AGC_PODMAN_MATCH" "podman service" "$AGC_PODMAN_LOG" ||
    die "podman service failed to start"
  log "podman service up (pid $(cat "$AGC_PODMAN_PID"))"
fi

# Check the guess in lib.sh against the limits the service really has (conmon
# and runc inherit them): if containers.conf asks for other values, rewrite it
# with the real ones and restart the service once.
pod_pid="$(cat "$AGC_PODMAN_PID")"
real_nofile="$(awk '/^Max open files/ {print $5}' "/proc/$pod_pid/limits")"
real_nproc="$(awk '/^Max processes/ {print $4}' "/proc/$pod_pid/limits")"
[ "$real_nofile" = unlimited ] && real_nofile=1048576
[ "$real_nproc" = unlimited ] && real_nproc="$(podman_nproc)"
if ensure_containers_conf "$real_nofile" "$real_nproc"; then
  log "the podman service's hard limits are nofile=$real_nofile nproc=$real_nproc; restarting it with them"
  stop_pid "$pod_pid" "podman service"
  rm -f "$AGC_PODMAN_PID" "$AGC_PODMAN_SOCK"
  start_bg "$AGC_PODMAN_PID" "$AGC_PODMAN_LOG" podman system service --time=0 "unix://$AGC_PODMAN_SOCK"
  wait_for podman_ok "$AGC_PODMAN_PID" "$AGC_PODMAN_MATCH" "podman service" "$AGC_PODMAN_LOG" ||
    die "podman service failed to start"
  log "podman service up (pid $(cat "$AGC_PODMAN_PID"))"
fi

printf 'export DOCKER_HOST=unix://%s\n' "$AGC_PODMAN_SOCK" >"$AGC_STATE_DIR/env"
log "ready in $(elapsed "$t0") s; for the Docker CLI and the docker provider: source $AGC_STATE_DIR/env"
echo "export DOCKER_HOST=unix://$AGC_PODMAN_SOCK"
