#!/usr/bin/env bash
# Starts a local Kubernetes control plane for tests and for trying the library
# without a cluster: etcd, kube-apiserver and kube-controller-manager, all on
# 127.0.0.1, built from Go modules by scripts/toolchain.sh. There is no
# scheduler and no kubelet, so Pods stay Pending; admission (Pod Security,
# ResourceQuota, LimitRange, ServiceAccount) still judges every Pod when it is
# created, and the controllers still turn Deployments into ReplicaSets and
# Pods, and delete namespaces completely.
#
#   eval "$(scripts/kube/up.sh [DIR])"   # exports KUBECONFIG and AGC_KUBE_DIR
#   "$AGC_KUBECTL" get ns                # kubectl of the same release (toolchain.sh)
#   scripts/kube/down.sh "$AGC_KUBE_DIR"
#
# DIR (default: a new /tmp/agc-kube.XXXXXX) receives the certificates (pki/),
# admin.kubeconfig, etcd's data, logs/ and one PID file per process. Nothing
# else is written. Ports, all on 127.0.0.1 (override when they are taken):
#   AGC_KUBE_PORT 6443, AGC_ETCD_PORT 2379 (and +1 for peers),
#   AGC_KCM_PORT 10257
# Binaries: AGC_KUBE_APISERVER, AGC_KUBE_CONTROLLER_MANAGER, AGC_ETCD,
# AGC_KUBECTL (only to wait for the controllers); unset,
# they come from scripts/toolchain.sh (a cold build takes several minutes).
# AGC_KUBE_AUDIT_POLICY: an audit policy file; the API server then writes the
# events it selects, as JSON lines, to logs/audit.log (exported as
# AGC_KUBE_AUDIT_LOG), so a test can see every request an identity made.
# Log lines go to stderr; stdout carries only the export lines.
set -euo pipefail

log() { echo "[kube] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

root="$(cd "$(dirname "$0")/../.." && pwd)"
dir="${1:-}"
if [ -z "$dir" ]; then dir="$(mktemp -d /tmp/agc-kube.XXXXXX)"; fi
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
[ ! -e "$dir/apiserver.pid" ] || die "$dir already holds a control plane; stop it with scripts/kube/down.sh $dir"

kube_port="${AGC_KUBE_PORT:-6443}"
etcd_port="${AGC_ETCD_PORT:-2379}"
kcm_port="${AGC_KCM_PORT:-10257}"
wait_seconds="${AGC_WAIT_SECONDS:-90}"

if [ -z "${AGC_KUBE_APISERVER:-}" ] || [ -z "${AGC_KUBE_CONTROLLER_MANAGER:-}" ] || [ -z "${AGC_ETCD:-}" ] || [ -z "${AGC_KUBECTL:-}" ]; then
  eval "$("$root/scripts/toolchain.sh")"
fi
for b in "$AGC_KUBE_APISERVER" "$AGC_KUBE_CONTROLLER_MANAGER" "$AGC_ETCD" "$AGC_KUBECTL"; do
  [ -x "$b" ] || die "not an executable: $b"
done
command -v openssl >/dev/null || die "openssl is needed for the certificates"

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in "$kube_port" "$etcd_port" "$((etcd_port + 1))" "$kcm_port"; do
  port_free "$p" || die "127.0.0.1:$p is in use; set AGC_KUBE_PORT/AGC_ETCD_PORT/AGC_KCM_PORT, or run inside its own network namespace"
done

pki="$dir/pki" logs="$dir/logs"
mkdir -p "$pki" "$logs"
umask 077

# --- Certificates ------------------------------------------------------------
# Valid for 2 days: long enough for any test run, short enough not to matter.
ssl() { openssl "$@" 2>>"$logs/openssl.log" || die "openssl $1 failed (see $logs/openssl.log)"; }
ec_key() { ssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }
# NAME SUBJECT EXTENSIONS: a key and a certificate signed by the CA.
issue() {
  local name="$1" subj="$2" ext="$3"
  ec_key "$pki/$name.key"
  ssl req -new -key "$pki/$name.key" -subj "$subj" -out "$pki/$name.csr"
  printf '%s\n' "$ext" >"$pki/$name.ext"
  ssl x509 -req -in "$pki/$name.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
    -days 2 -sha256 -extfile "$pki/$name.ext" -out "$pki/$name.crt"
  rm -f "$pki/$name.csr" "$pki/$name.ext"
}
ec_key "$pki/ca.key"
ssl req -x509 -new -key "$pki/ca.key" -subj "/CN=airgap-go-constructs test CA" -days 2 -sha256 \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out "$pki/ca.crt"
# 10.0.0.1 is the `kubernetes` Service's ClusterIP (first address of the range below).
issue apiserver "/CN=kube-apiserver" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
client_ext="basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth"
issue admin "/O=system:masters/CN=agc-admin" "$client_ext"
issue controller-manager "/CN=system:kube-controller-manager" "$client_ext"
# The service-account token key pair (RSA: what every verifier accepts).
ssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$pki/sa.key"
ssl pkey -in "$pki/sa.key" -pubout -out "$pki/sa.pub"

kubeconfig() { # FILE USER
  cat >"$1" <<KC
apiVersion: v1
kind: Config
clusters:
- name: agc-local
  cluster:
    server: https://127.0.0.1:$kube_port
    certificate-authority: $pki/ca.crt
users:
- name: $2
  user:
    client-certificate: $pki/$2.crt
    client-key: $pki/$2.key
contexts:
- name: agc-local
  context:
    cluster: agc-local
    user: $2
current-context: agc-local
KC
}
kubeconfig "$dir/admin.kubeconfig" admin
kubeconfig "$dir/controller-manager.kubeconfig" controller-manager

# --- Processes -----------------------------------------------------------------
# setsid: the processes outlive this script (and a test's shell) until down.sh.
start() { # NAME ARGS...
  local name="$1"; shift
  (cd / && exec setsid "$@" </dev/null >"$logs/$name.log" 2>&1) &
  echo $! >"$dir/$name.pid"
  log "started $name (pid $!, log $logs/$name.log)"
}
fail() {
  log "ERROR: $*"
  local f
  for f in "$logs"/*.log; do log "--- last lines of $f"; tail -15 "$f" | sed 's/^/[kube]   /' >&2; done
  "$root/scripts/kube/down.sh" "$dir" --keep >&2 || true
  exit 1
}
wait_for() { # WHAT COMMAND...
  local what="$1" t0=$SECONDS; shift
  while ! "$@" >/dev/null 2>&1; do
    [ $((SECONDS - t0)) -lt "$wait_seconds" ] || fail "$what not ready after $wait_seconds s"
    sleep 0.5
  done
  log "$what ready after $((SECONDS - t0)) s"
}

# Single member, loopback only; no fsync because the data dies with the test.
start etcd "$AGC_ETCD" \
  --name default --data-dir "$dir/etcd" \
  --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
  --listen-peer-urls "http://127.0.0.1:$((etcd_port + 1))" --initial-advertise-peer-urls "http://127.0.0.1:$((etcd_port + 1))" \
  --initial-cluster "default=http://127.0.0.1:$((etcd_port + 1))" \
  --unsafe-no-fsync --log-level warn
wait_for etcd curl -fsS "http://127.0.0.1:$etcd_port/health"

# Admission: PodSecurity named explicitly; everything else is the release's
# default set (NamespaceLifecycle, LimitRanger, ServiceAccount,
# ResourceQuota, ...). No flag weakens Pod Security: privileged containers are
# refused outright (--allow-privileged=false), unless AGC_KUBE_ALLOW_PRIVILEGED=true
# (the policy oracle's cluster, where Pod Security alone must judge them).
audit=()
if [ -n "${AGC_KUBE_AUDIT_POLICY:-}" ]; then
  [ -r "$AGC_KUBE_AUDIT_POLICY" ] || die "AGC_KUBE_AUDIT_POLICY is not a readable file: $AGC_KUBE_AUDIT_POLICY"
  audit=(--audit-policy-file="$AGC_KUBE_AUDIT_POLICY" --audit-log-path="$logs/audit.log" --audit-log-format=json --audit-log-mode=blocking)
fi
start apiserver "$AGC_KUBE_APISERVER" \
  --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$kube_port" \
  --cert-dir="$pki" --tls-cert-file="$pki/apiserver.crt" --tls-private-key-file="$pki/apiserver.key" \
  --client-ca-file="$pki/ca.crt" \
  --etcd-servers="http://127.0.0.1:$etcd_port" \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-account-key-file="$pki/sa.pub" --service-account-signing-key-file="$pki/sa.key" \
  --service-cluster-ip-range=10.0.0.0/24 \
  --authorization-mode=RBAC \
  --enable-admission-plugins=PodSecurity \
  --allow-privileged="${AGC_KUBE_ALLOW_PRIVILEGED:-false}" \
  ${audit[@]+"${audit[@]}"} \
  --profiling=false
ready_api() {
  curl -fsS --cacert "$pki/ca.crt" --cert "$pki/admin.crt" --key "$pki/admin.key" \
    "https://127.0.0.1:$kube_port/readyz"
}
wait_for kube-apiserver ready_api

start controller-manager "$AGC_KUBE_CONTROLLER_MANAGER" \
  --kubeconfig="$dir/controller-manager.kubeconfig" \
  --authentication-kubeconfig="$dir/controller-manager.kubeconfig" \
  --authorization-kubeconfig="$dir/controller-manager.kubeconfig" \
  --bind-address=127.0.0.1 --secure-port="$kcm_port" --cert-dir="$pki" \
  --service-account-private-key-file="$pki/sa.key" --root-ca-file="$pki/ca.crt" \
  --use-service-account-credentials=true \
  --leader-elect=false --profiling=false
ready_kcm() { curl -fsSk "https://127.0.0.1:$kcm_port/healthz"; }
wait_for kube-controller-manager ready_kcm
# The controllers are running once the `default` ServiceAccount exists.
ready_sa() { "$AGC_KUBECTL" --kubeconfig "$dir/admin.kubeconfig" get serviceaccount default -n default; }
wait_for "controllers (default ServiceAccount)" ready_sa

printf 'export KUBECONFIG=%q\n' "$dir/admin.kubeconfig"
printf 'export KUBE_CONFIG_PATH=%q\n' "$dir/admin.kubeconfig"
printf 'export AGC_KUBE_DIR=%q\n' "$dir"
if [ ${#audit[@]} -gt 0 ]; then printf 'export AGC_KUBE_AUDIT_LOG=%q\n' "$logs/audit.log"; fi
