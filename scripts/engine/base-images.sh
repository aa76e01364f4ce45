#!/usr/bin/env bash
# Builds the two base images locally (nothing can be pulled here), keeps them
# as archives in a cache keyed by their inputs, pushes them to the local
# registry and writes their pinned references to $AGC_STATE_DIR/base-images.json:
#
#   builder  127.0.0.1:5000/library/golang:1.26-bookworm
#            Debian minbase (debootstrap) + this machine's /usr/local/go
#   runtime  127.0.0.1:5000/distroless/static-debian13:nonroot
#            distroless-like, FROM scratch: passwd/group, CA bundle, zoneinfo,
#            /tmp, /home/nonroot, USER 65532:65532; no shell, no binaries
#
# Both are built with `podman build --timestamp` from deterministic inputs, so
# the image ids (and registry digests) do not depend on when they were built.
# A warm run (cache hit) runs no debootstrap: it loads the cached archive into
# podman only when the image is missing there, and pushes it.
#
#   sudo scripts/engine/base-images.sh      # after setup.sh and start.sh
#
# Environment: AGC_DEBIAN_SUITE (bookworm), AGC_DEBIAN_MIRROR (the mirror apt
# uses for that suite), AGC_GOROOT (/usr/local/go), AGC_KEEP_CACHE_KEYS (3),
# AGC_KEEP_BUILD_DIR (1 keeps the cold build's rootfs, for debugging), plus
# those in lib.sh.
set -euo pipefail
# shellcheck source=scripts/engine/lib.sh
. "$(dirname "$0")/lib.sh"
require_root
t0="$(now)"

SELF="$(readlink -f "$0")"
SUITE="${AGC_DEBIAN_SUITE:-bookworm}"
GOROOT_SRC="${AGC_GOROOT:-/usr/local/go}"
KEEP_KEYS="${AGC_KEEP_CACHE_KEYS:-3}"

for c in podman debootstrap curl sha256sum flock; do
  command -v "$c" >/dev/null || die "$c not found: run scripts/engine/setup.sh first"
done
if [ ! -x "$GOROOT_SRC/bin/go" ] || [ ! -f "$GOROOT_SRC/VERSION" ]; then
  die "no Go toolchain at $GOROOT_SRC"
fi
registry_ok || die "no registry at http://$AGC_REGISTRY_ADDR/v2/: run scripts/engine/start.sh first"

# The Debian mirror apt uses here for $SUITE (deb822 .sources or one-line
# lists), so debootstrap fetches from the same place as apt-get does.
detect_mirror() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk -v suite="$SUITE" '
      function flush() { if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " suite " ") && uris != "") { split(uris, u, " "); print u[1]; exit } types=""; suites=""; uris="" }
      /^[ \t]*$/ { flush(); next }
      /^Types:/  { sub(/^Types:[ \t]*/, "");  types=$0 }
      /^Suites:/ { sub(/^Suites:[ \t]*/, ""); suites=$0 }
      /^URIs:/   { sub(/^URIs:[ \t]*/, "");   uris=$0 }
      END { flush() }' "$f"
  done | head -n1
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    awk -v suite="$SUITE" '$1 == "deb" { i = 2; if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ } if ($(i+1) == suite) { print $i; exit } }' "$f"
  done | head -n1
}
MIRROR="${AGC_DEBIAN_MIRROR:-$(detect_mirror | head -n1)}"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
MIRROR="${MIRROR%/}"

GO_VERSION_OUT="$("$GOROOT_SRC/bin/go" version)"
GO_VERSION="$(head -n1 "$GOROOT_SRC/VERSION")"            # go1.26.8
GO_MINOR="$(sed -E 's/^go([0-9]+\.[0-9]+).*/\1/' <<<"$GO_VERSION")"  # 1.26
GO_VERSION_SHA="$(sha256sum "$GOROOT_SRC/VERSION" | cut -c1-64)"
# Every timestamp in both images (config "created", history, file mtimes) is
# the Go release's own time, from its VERSION file (0 if it has none).
SDE="$(sed -n 's/^time //p' "$GOROOT_SRC/VERSION" | head -n1)"
SDE="$( { [ -n "$SDE" ] && date -u -d "$SDE" +%s; } || echo 0)"

BUILDER_REF="$AGC_REGISTRY_ADDR/library/golang:$GO_MINOR-$SUITE"
RUNTIME_REF="$AGC_REGISTRY_ADDR/distroless/static-debian13:nonroot"

KEY="$(
  {
    echo "script:"; cat "$SELF"
    echo "go-version: $GO_VERSION_OUT"
    echo "go-VERSION-sha256: $GO_VERSION_SHA"
    echo "suite: $SUITE"
    echo "mirror: $MIRROR"
    echo "arch: $(uname -m)"
  } | sha256sum | cut -c1-16
)"
CACHE_ROOT="$AGC_CACHE_DIR/base-images"
CACHE="$CACHE_ROOT/$KEY"
log "key $KEY (go $GO_VERSION, $SUITE from $MIRROR, epoch $SDE) -> $CACHE"

mkdir -p "$CACHE_ROOT" "$AGC_STATE_DIR"
exec 9>"$CACHE_ROOT/.lock"
flock 9
# Build directories left by an interrupted run (we hold the lock, so no other
# run is using them).
if [ "${AGC_KEEP_BUILD_DIR:-0}" != 1 ]; then
  rm -rf "$CACHE_ROOT"/.build.*
fi

# ---- cold path: build both images and save them into the cache ---------------
build_images() {
  local work rootfs rt tb
  work="$(mktemp -d "$CACHE_ROOT/.build.XXXXXX")"
  if [ "${AGC_KEEP_BUILD_DIR:-0}" != 1 ]; then
    # shellcheck disable=SC2064
    trap "rm -rf '$work'" EXIT
  fi
  rootfs="$work/builder-rootfs"

  tb="$(now)"
  log "debootstrap --variant=minbase $SUITE (log $work/debootstrap.log)"
  if ! debootstrap --variant=minbase --include=ca-certificates,tzdata,netbase \
      --components=main "$SUITE" "$rootfs" "$MIRROR" >"$work/debootstrap.log" 2>&1; then
    tail -n 30 "$work/debootstrap.log" >&2
    die "debootstrap failed"
  fi
  log "debootstrap done in $(elapsed "$tb") s"

  # Drop what differs between two debootstrap runs of the same packages, and
  # what an image should not carry (downloaded .debs, apt lists, logs).
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/cache/apt/*.bin \
    "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/ldconfig/aux-cache \
    "$rootfs"/var/lib/dpkg/*-old "$rootfs"/var/cache/debconf/*-old \
    "$rootfs"/etc/passwd- "$rootfs"/etc/group- "$rootfs"/etc/shadow- "$rootfs"/etc/gshadow- \
    "$rootfs"/etc/subuid- "$rootfs"/etc/subgid- \
    "$rootfs"/etc/hostname "$rootfs"/etc/resolv.conf "$rootfs"/etc/machine-id \
    "$rootfs"/var/log/bootstrap.log "$rootfs"/debootstrap
  mkdir -p "$rootfs/var/lib/apt/lists/partial"
  find "$rootfs/var/log" -type f -exec truncate -s 0 {} +
  # Password "last changed" day: the epoch's day, not today's.
  if [ -f "$rootfs/etc/shadow" ]; then
    awk -F: -v OFS=: -v d="$((SDE / 86400))" '$3 != "" { $3 = d } { print }' "$rootfs/etc/shadow" >"$rootfs/etc/shadow.new"
    cat "$rootfs/etc/shadow.new" >"$rootfs/etc/shadow" && rm -f "$rootfs/etc/shadow.new"
  fi

  log "copying $GOROOT_SRC ($GO_VERSION) into the builder"
  mkdir -p "$rootfs/usr/local" "$rootfs/go/src" "$rootfs/go/bin" "$rootfs/src"
  cp -a "$GOROOT_SRC" "$rootfs/usr/local/go"
  chown -R 0:0 "$rootfs/usr/local/go"
  chmod -R 1777 "$rootfs/go"

  mkdir -p "$work/builder"
  tar --numeric-owner --sort=name --mtime="@$SDE" --clamp-mtime \
    --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
    -C "$rootfs" -cf "$work/builder/rootfs.tar" .
  cat >"$work/builder/Containerfile" <<EOF
FROM scratch
ADD rootfs.tar /
ENV PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \\
    GOLANG_VERSION=${GO_VERSION#go} \\
    GOTOOLCHAIN=local \\
    GOPATH=/go
WORKDIR /src
CMD ["bash"]
EOF

  # Runtime: distroless/static-like, from files of the same Debian snapshot.
  rt="$work/runtime-rootfs"
  mkdir -p "$rt/etc/ssl/certs" "$rt/usr/share" "$rt/home/nonroot" "$rt/root" "$rt/tmp"
  cat >"$rt/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
EOF
  cat >"$rt/etc/group" <<'EOF'
root:x:0:
nobody:x:65534:
tty:x:5:
staff:x:50:
nonroot:x:65532:
EOF
  cat >"$rt/etc/nsswitch.conf" <<'EOF'
passwd:         files
group:          files
shadow:         files
gshadow:        files

hosts:          files dns
networks:       files

protocols:      files
services:       files
ethers:         files
rpc:            files
EOF
  local debver
  debver="$(cat "$rootfs/etc/debian_version")"
  cat >"$rt/etc/os-release" <<EOF
PRETTY_NAME="Distroless (airgap-go-constructs local build, Debian $debver data)"
NAME="Debian GNU/Linux"
ID="debian"
VERSION_ID="${debver%%.*}"
VERSION="Debian GNU/Linux ${debver%%.*} ($SUITE)"
VERSION_CODENAME=$SUITE
HOME_URL="https://github.com/GoogleContainerTools/distroless"
EOF
  cp "$rootfs/etc/ssl/certs/ca-certificates.crt" "$rt/etc/ssl/certs/ca-certificates.crt"
  cp "$rootfs/etc/services" "$rootfs/etc/protocols" "$rt/etc/"
  # zoneinfo without the leap-second "right/" copies (distroless has none).
  cp -a "$rootfs/usr/share/zoneinfo" "$rt/usr/share/zoneinfo"
  rm -rf "$rt/usr/share/zoneinfo/right"
  chown -R 0:0 "$rt"
  chmod 0755 "$rt" "$rt/etc" "$rt/usr" "$rt/usr/share" "$rt/home"
  chmod 0644 "$rt"/etc/passwd "$rt"/etc/group "$rt"/etc/nsswitch.conf "$rt"/etc/os-release
  chmod 0700 "$rt/root" "$rt/home/nonroot"
  chown 65532:65532 "$rt/home/nonroot"
  chmod 1777 "$rt/tmp"
  if find "$rt" -type f -perm /111 | grep -q .; then
    find "$rt" -type f -perm /111 >&2
    die "runtime rootfs has executable files; it must have none"
  fi

  mkdir -p "$work/runtime"
  tar --numeric-owner --sort=name --mtime="@$SDE" --clamp-mtime \
    --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
    -C "$rt" -cf "$work/runtime/rootfs.tar" .
  cat >"$work/runtime/Containerfile" <<'EOF'
FROM scratch
ADD rootfs.tar /
ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
USER 65532:65532
WORKDIR /home/nonroot
EOF

  local name ref
  for name in builder runtime; do
    ref="$BUILDER_REF"; [ "$name" = runtime ] && ref="$RUNTIME_REF"
    tb="$(now)"
    # --timestamp: config "created", history and every file mtime in the layer
    # are $SDE. --layers=false: one commit, so one layer. --format oci: a
    # Docker-format config carries the random build container's id and
    # hostname ("container", "container_config.Hostname"), so two builds of
    # the same input would get different ids; the OCI config has neither. The
    # push below still writes a Docker v2s2 manifest (same config blob).
    podman build --quiet --format oci --layers=false --pull=never --network=none \
      --timestamp "$SDE" -t "$ref" -f "$work/$name/Containerfile" "$work/$name" >"$work/$name.id"
    log "built $name $ref (image id $(cut -c1-12 "$work/$name.id")) in $(elapsed "$tb") s"
    podman save -q --format docker-archive -o "$work/$name.docker.tar" "$ref"
    cp "$work/$name.id" "$work/$name.imageid"
  done

  # Publish the cache entry atomically.
  mkdir -p "$work/entry"
  mv "$work/builder.docker.tar" "$work/runtime.docker.tar" "$work/builder.imageid" "$work/runtime.imageid" "$work/entry/"
  {
    echo "key=$KEY"; echo "go=$GO_VERSION_OUT"; echo "go_version_sha256=$GO_VERSION_SHA"
    echo "suite=$SUITE"; echo "mirror=$MIRROR"; echo "epoch=$SDE"
    echo "builder=$BUILDER_REF"; echo "runtime=$RUNTIME_REF"
    echo "built_at=$(date -u +%FT%TZ)"
  } >"$work/entry/inputs"
  (cd "$work/entry" && sha256sum ./*.docker.tar >SHA256SUMS)
  rm -rf "$CACHE"
  mv "$work/entry" "$CACHE"
  if [ "${AGC_KEEP_BUILD_DIR:-0}" = 1 ]; then
    log "kept build directory $work (AGC_KEEP_BUILD_DIR=1)"
  else
    rm -rf "$work"
    trap - EXIT
  fi
}

if [ -f "$CACHE/SHA256SUMS" ] && [ -f "$CACHE/builder.docker.tar" ] && [ -f "$CACHE/runtime.docker.tar" ]; then
  log "cache hit, no build"
else
  log "cache miss, building (debootstrap takes about a minute)"
  build_images
fi
touch "$CACHE"

# Keep only the newest $KEEP_KEYS cache entries.
# shellcheck disable=SC2012
ls -1dt "$CACHE_ROOT"/*/ 2>/dev/null | tail -n +"$((KEEP_KEYS + 1))" | while read -r old; do
  log "pruning old cache entry $old"
  rm -rf "$old"
done

# ---- load (only if podman lacks the image) and push ---------------------------
declare -A PINNED
for name in builder runtime; do
  ref="$BUILDER_REF"; [ "$name" = runtime ] && ref="$RUNTIME_REF"
  want="$(cat "$CACHE/$name.imageid")"
  have="$(podman image inspect --format '{{.Id}}' "$ref" 2>/dev/null || true)"
  if [ "$have" = "$want" ]; then
    log "$name already in podman ($ref, ${want:0:12})"
  else
    log "loading $name from $CACHE/$name.docker.tar"
    podman load -q -i "$CACHE/$name.docker.tar" >/dev/null
    have="$(podman image inspect --format '{{.Id}}' "$ref")"
    [ "$have" = "$want" ] || die "loaded $name has id $have, expected $want"
  fi

  tp="$(now)"
  podman push -q --tls-verify=false --format v2s2 --digestfile "$CACHE/.$name.digest.$$" "$ref" "docker://$ref"
  digest="$(cat "$CACHE/.$name.digest.$$")"
  rm -f "$CACHE/.$name.digest.$$"
  if [ -f "$CACHE/$name.digest" ]; then
    first="$(cat "$CACHE/$name.digest")"
    if [ "$first" = "$digest" ]; then
      log "pushed $name in $(elapsed "$tp") s: $digest (same as this archive's first push)"
    else
      log "WARNING: pushed $name digest $digest differs from this archive's first push $first"
    fi
  else
    echo "$digest" >"$CACHE/$name.digest"
    log "pushed $name in $(elapsed "$tp") s: $digest"
  fi
  PINNED[$name]="$ref@$digest"
done

json="$AGC_STATE_DIR/base-images.json"
new_json="$(printf '{\n  "builder": "%s",\n  "runtime": "%s"\n}' "${PINNED[builder]}" "${PINNED[runtime]}")"
if [ -f "$json" ] && [ "$(cat "$json")" != "$new_json" ]; then
  log "pinned references changed from the previous $json"
fi
write_if_changed "$json" "$new_json" || true
log "wrote $json"
cat "$json" >&2
log "done in $(elapsed "$t0") s"
