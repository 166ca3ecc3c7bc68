#!/usr/bin/env bash
# Build the offline sandbox base image without any container registry.
#
#   scripts/build-base-image.sh [--name wm-base:bookworm] [--force] [--no-cache]
#                               [--runtime docker|podman] [--suite bookworm]
#                               [--mirror URL] [--verbose]
#
# 1. debootstrap --variant=minbase a Debian root file system from the same
#    Debian mirror apt uses on this machine (or --mirror / WM_DEBIAN_MIRROR);
# 2. tar it into ${XDG_CACHE_HOME:-$HOME/.cache}/wm/ (so a rebuild after
#    `docker rmi` only re-imports);
# 3. `docker import` (or `podman import`) it with wm labels.
# Skips everything when the image already exists with the same
# wm.base.version label, unless --force.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Bump when the contents below change: existing images and cached tarballs
# with another version are then rebuilt.
BASE_VERSION=1
# Essential packages (bash, coreutils, ...) come with minbase anyway; listed
# for clarity. No nodejs: the in-sandbox shim brings its own runtime.
INCLUDE_PKGS=(bash coreutils git ca-certificates procps less curl)

NAME=""
SUITE="bookworm"
RUNTIME="docker"
MIRROR="${WM_DEBIAN_MIRROR:-}"
FORCE=0
NO_CACHE=0
VERBOSE=0
CACHE_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/wm"
TMP_PARENT="${WM_BUILD_TMPDIR:-/var/tmp}"
WORK_DIR=""

usage() {
  cat >&2 <<'EOF'
usage: scripts/build-base-image.sh [options]

  --name NAME        image name (default wm-base:<suite>)
  --force            rebuild the image even if it exists with the same version
                     (re-imports the cached root file system)
  --no-cache         also re-run debootstrap instead of using the cached tarball
  --runtime RT       docker (default) or podman
  --suite SUITE      Debian suite (default bookworm)
  --mirror URL       Debian mirror (default: the one apt uses on this machine;
                     also WM_DEBIAN_MIRROR)
  --verbose          show debootstrap's output
Environment: XDG_CACHE_HOME (cache under $XDG_CACHE_HOME/wm),
             WM_BUILD_TMPDIR (where the root file system is assembled, default /var/tmp).
EOF
}

parse_args() {
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --name)
        [[ $# -ge 2 && -n "$2" ]] || die "--name needs a value"
        NAME="$2"
        shift
        ;;
      --name=*) NAME="${1#--name=}" ;;
      --runtime)
        [[ $# -ge 2 ]] || die "--runtime needs a value (docker or podman)"
        RUNTIME="$2"
        shift
        ;;
      --runtime=*) RUNTIME="${1#--runtime=}" ;;
      --suite)
        [[ $# -ge 2 && -n "$2" ]] || die "--suite needs a value"
        SUITE="$2"
        shift
        ;;
      --suite=*) SUITE="${1#--suite=}" ;;
      --mirror)
        [[ $# -ge 2 && -n "$2" ]] || die "--mirror needs a value"
        MIRROR="$2"
        shift
        ;;
      --mirror=*) MIRROR="${1#--mirror=}" ;;
      --force) FORCE=1 ;;
      --no-cache)
        NO_CACHE=1
        FORCE=1
        ;;
      -v | --verbose) VERBOSE=1 ;;
      -h | --help)
        usage
        exit 0
        ;;
      *)
        usage
        die "unknown argument: $1"
        ;;
    esac
    shift
  done
  case "$RUNTIME" in
    docker | podman) ;;
    *) die "--runtime must be docker or podman, not '$RUNTIME'" ;;
  esac
  [[ "$SUITE" =~ ^[a-z][a-z0-9-]*$ ]] || die "--suite: not a Debian suite name: '$SUITE'"
  if [[ -z "$NAME" ]]; then
    NAME="wm-base:$SUITE"
  fi
  # Docker's reference grammar, roughly: lowercase path, optional :tag.
  [[ "$NAME" =~ ^[a-z0-9]+([._/-][a-z0-9]+)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?$ ]] ||
    die "--name: not a valid image name: '$NAME' (example: wm-base:bookworm)"
}

# ---------------------------------------------------------------------------
# Which Debian mirror does apt use here?

# URIs of "deb" entries for exactly $1 in deb822 *.sources files.
uris_from_deb822() {
  awk -v suite="$1" '
    function flush() {
      if (types ~ /(^|[ \t])deb([ \t]|$)/ && enabled != "no" &&
          (" " suites " ") ~ ("[ \t]" suite "[ \t]")) {
        n = split(uris, u, /[ \t]+/)
        for (i = 1; i <= n; i++) if (u[i] != "") print u[i]
      }
      types = ""; uris = ""; suites = ""; enabled = "yes"; last = ""
    }
    BEGIN { enabled = "yes" }
    /^[ \t]*#/ { next }
    /^[ \t]*$/ { flush(); next }
    /^[ \t]/ {                                   # continuation line
      v = $0; gsub(/^[ \t]+|[ \t]+$/, "", v)
      if (last == "uris") uris = uris " " v
      else if (last == "suites") suites = suites " " v
      else if (last == "types") types = types " " v
      next
    }
    {
      key = $0; sub(/:.*/, "", key); key = tolower(key)
      v = $0; sub(/^[^:]*:/, "", v); gsub(/^[ \t]+|[ \t]+$/, "", v)
      last = key
      if (key == "types") types = v
      else if (key == "uris") uris = v
      else if (key == "suites") suites = v
      else if (key == "enabled") enabled = tolower(v)
    }
    END { flush() }' "$2"
}

# URIs of "deb" lines for exactly $1 in one-line *.list files.
uris_from_list() {
  awk -v suite="$1" '
    { sub(/#.*/, "") }
    $1 != "deb" { next }
    {
      i = 2
      if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
      if ($(i + 1) == suite) print $i
    }' "$2"
}

apt_mirror() {
  local suite="$1" f uri
  local -a files=()
  [[ -r /etc/apt/sources.list ]] && files+=(/etc/apt/sources.list)
  for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [[ -r "$f" ]] && files+=("$f")
  done
  for f in "${files[@]}"; do
    while IFS= read -r uri; do
      case "$uri" in
        http://* | https://* | file:/*)
          printf '%s\n' "${uri%/}"
          return 0
          ;;
      esac
    done < <(if [[ "$f" == *.sources ]]; then uris_from_deb822 "$suite" "$f"; else uris_from_list "$suite" "$f"; fi)
  done
  return 1
}

# debootstrap fetches with wget, which does not read apt's proxy setting.
import_apt_proxy() {
  have apt-config || return 0
  local hp="" sp=""
  eval "$(apt-config shell hp Acquire::http::Proxy sp Acquire::https::Proxy 2>/dev/null || true)"
  if [[ -n "$hp" && "$hp" != "DIRECT" && -z "${http_proxy:-}" ]]; then
    export http_proxy="$hp"
  fi
  if [[ -n "$sp" && "$sp" != "DIRECT" && -z "${https_proxy:-}" ]]; then
    export https_proxy="$sp"
  fi
}

# ---------------------------------------------------------------------------
# Runtime helpers

rt() { "$RUNTIME" "$@"; }

image_version() {
  local fmt='{{ index .Config.Labels "wm.base.version" }}'
  rt image inspect --format "$fmt" "$NAME" 2>/dev/null || true
}

check_runtime() {
  if ! have "$RUNTIME"; then
    if [[ "$RUNTIME" == podman ]]; then
      die "podman is not installed; run scripts/install-deps.sh --with-podman"
    fi
    die "docker is not installed; run scripts/install-deps.sh"
  fi
  if [[ "$RUNTIME" == docker ]]; then
    if ! docker_ok; then
      local out
      out="$(with_timeout 20 docker info 2>&1 >/dev/null || true)"
      if [[ "$out" == *"permission denied"* ]]; then
        die "$(id -un) may not use the Docker socket; see scripts/start-docker.sh (docker group)"
      fi
      die "docker does not answer; run scripts/start-docker.sh first"
    fi
  else
    with_timeout 30 podman info >/dev/null 2>&1 ||
      die "'podman info' fails; run scripts/start-podman.sh (see its output)"
  fi
}

# ---------------------------------------------------------------------------
# Temp dir + cleanup

cleanup() {
  local rc=$?
  if [[ -n "$WORK_DIR" && -d "$WORK_DIR" ]]; then
    # debootstrap mounts /proc and /sys inside the target; never let rm walk
    # into a mount that was left behind by an interrupted run.
    local m
    while IFS= read -r m; do
      as_root umount -l "$m" 2>/dev/null || true
    done < <(awk -v d="$WORK_DIR/" 'index($2, d) == 1 { print $2 }' /proc/mounts 2>/dev/null | sort -r)
    as_root rm -rf --one-file-system "$WORK_DIR" 2>/dev/null || warn "could not remove $WORK_DIR"
  fi
  rm -f "${CACHE_TMP:-}" 2>/dev/null || true
  exit "$rc"
}
CACHE_TMP=""

# ---------------------------------------------------------------------------
# Build steps

cache_file() {
  local arch="$1" key
  key="$(printf '%s|%s|%s|%s' "$SUITE" "$arch" "$BASE_VERSION" "${INCLUDE_PKGS[*]}" | sha256sum | cut -c1-12)"
  printf '%s/base-%s-%s-v%s-%s.tar\n' "$CACHE_DIR" "$SUITE" "$arch" "$BASE_VERSION" "$key"
}

run_debootstrap() {
  local target="$1" arch="$2" includes script=""
  includes="$(
    IFS=,
    printf '%s' "${INCLUDE_PKGS[*]}"
  )"
  # Older debootstrap releases may not know newer suites; they all use sid's.
  if [[ ! -e "/usr/share/debootstrap/scripts/$SUITE" && -e /usr/share/debootstrap/scripts/sid ]]; then
    script=/usr/share/debootstrap/scripts/sid
  fi
  local -a cmd=(debootstrap --variant=minbase --arch="$arch" --include="$includes"
    "$SUITE" "$target" "$MIRROR")
  [[ -n "$script" ]] && cmd+=("$script")
  log "${cmd[*]}"
  local logf="$WORK_DIR/debootstrap.log"
  if [[ "$VERBOSE" -eq 1 ]]; then
    as_root env http_proxy="${http_proxy:-}" https_proxy="${https_proxy:-}" "${cmd[@]}" </dev/null >&2
  elif ! as_root env http_proxy="${http_proxy:-}" https_proxy="${https_proxy:-}" "${cmd[@]}" </dev/null >"$logf" 2>&1; then
    err "debootstrap failed; last lines of its output:"
    tail -n 30 "$logf" | sed 's/^/  | /' >&2
    if [[ -r "$target/debootstrap/debootstrap.log" ]]; then
      err "last lines of $target/debootstrap/debootstrap.log:"
      as_root tail -n 30 "$target/debootstrap/debootstrap.log" | sed 's/^/  | /' >&2
    fi
    exit 1
  fi
}

# Make the root file system image-friendly: no package caches, no host
# identity (resolv.conf, hostname), and a marker saying what it is.
tidy_rootfs() {
  local r="$1"
  # shellcheck disable=SC2016 # expanded by the inner sh, not here
  as_root sh -eu -c '
    r="$1"
    chown 0:0 "$r"
    chmod 0755 "$r"
    rm -rf "$r"/var/cache/apt/archives/*.deb "$r"/var/cache/apt/*.bin
    find "$r/var/lib/apt/lists" -mindepth 1 -maxdepth 1 ! -name partial ! -name lock -exec rm -rf {} +
    rm -f "$r"/var/log/dpkg.log "$r"/var/log/alternatives.log "$r"/var/log/bootstrap.log
    rm -rf "$r"/var/log/apt/*
    : > "$r/etc/resolv.conf"
    echo localhost > "$r/etc/hostname"
    chmod 0644 "$r/etc/resolv.conf" "$r/etc/hostname"
    rm -f "$r/etc/machine-id" "$r/var/lib/dbus/machine-id"
    # As in the Debian -slim images: no docs (copyright files stay), man
    # pages or translations, now and for packages installed later on top.
    mkdir -p "$r/etc/dpkg/dpkg.cfg.d"
    printf "%s\n" \
      "path-exclude /usr/share/doc/*" \
      "path-include /usr/share/doc/*/copyright" \
      "path-exclude /usr/share/groff/*" \
      "path-exclude /usr/share/info/*" \
      "path-exclude /usr/share/linda/*" \
      "path-exclude /usr/share/lintian/overrides/*" \
      "path-exclude /usr/share/locale/*" \
      "path-exclude /usr/share/man/*" > "$r/etc/dpkg/dpkg.cfg.d/wm-slim"
    find "$r/usr/share/doc" -depth -mindepth 1 ! -type d ! -name copyright -delete
    find "$r/usr/share/doc" -depth -mindepth 1 -type d -empty -delete
    for d in groff info linda lintian/overrides locale man; do
      if [ -d "$r/usr/share/$d" ]; then
        find "$r/usr/share/$d" -mindepth 1 -delete
      fi
    done
  ' sh "$r"
  local marker
  marker="$(printf 'WM_BASE_VERSION=%s\nWM_BASE_SUITE=%s\nWM_BASE_PACKAGES="%s"\nWM_BASE_BUILT=%s\n' \
    "$BASE_VERSION" "$SUITE" "${INCLUDE_PKGS[*]}" "$(date -u +%Y-%m-%dT%H:%M:%SZ)")"
  printf '%s\n' "$marker" | as_root tee "$r/etc/wm-base-release" >/dev/null
}

build_tarball() {
  local out="$1" arch="$2" t
  [[ -n "$MIRROR" ]] || MIRROR="$(apt_mirror "$SUITE" || true)"
  [[ -n "$MIRROR" ]] ||
    die "no Debian mirror for suite '$SUITE' in /etc/apt/sources.list{,.d/*.list,.d/*.sources}; pass --mirror URL or set WM_DEBIAN_MIRROR"
  log "Debian mirror: $MIRROR (suite $SUITE, $arch)"

  if ! need_root_or_sudo; then
    die "debootstrap needs root: run as root, or set up passwordless sudo, or import a cached tarball ($out)"
  fi
  have debootstrap || die "debootstrap is not installed; run scripts/install-deps.sh"
  import_apt_proxy

  mkdir -p "$TMP_PARENT"
  WORK_DIR="$(mktemp -d "$TMP_PARENT/wm-base.XXXXXX")"
  local rootfs="$WORK_DIR/rootfs"
  mkdir "$rootfs"

  t="$(now)"
  run_debootstrap "$rootfs" "$arch"
  T_DEBOOTSTRAP="$(elapsed "$t")"
  log "debootstrap done in ${T_DEBOOTSTRAP}s"

  tidy_rootfs "$rootfs"

  t="$(now)"
  mkdir -p "$CACHE_DIR"
  CACHE_TMP="$(mktemp "$CACHE_DIR/.base.tar.XXXXXX")"
  as_root tar --numeric-owner -C "$rootfs" -cf - . >"$CACHE_TMP"
  mv -f "$CACHE_TMP" "$out"
  CACHE_TMP=""
  T_TAR="$(elapsed "$t")"
  log "cached root file system: $out ($(du -h "$out" | cut -f1), ${T_TAR}s)"

  # The root file system is no longer needed; free the space now.
  as_root rm -rf --one-file-system "$rootfs"
}

import_tarball() {
  local tarball="$1" t
  t="$(now)"
  log "$RUNTIME import $tarball $NAME"
  local id
  local -a quiet=()
  [[ "$RUNTIME" == podman ]] && quiet=(--quiet) # no copy progress on stderr
  id="$(rt import "${quiet[@]}" \
    --change "LABEL wm.image=base" \
    --change "LABEL wm.base.version=$BASE_VERSION" \
    --change "LABEL wm.base.suite=$SUITE" \
    --change "ENV LANG=C.UTF-8" \
    --change 'CMD ["/bin/bash"]' \
    "$tarball" "$NAME" </dev/null)" || die "$RUNTIME import failed"
  T_IMPORT="$(elapsed "$t")"
  log "imported ${id:0:19} in ${T_IMPORT}s"
}

T_DEBOOTSTRAP=""
T_TAR=""
T_IMPORT=""

main() {
  parse_args "$@"
  local t0
  t0="$(now)"
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM

  check_runtime

  local current
  current="$(image_version)"
  if [[ "$FORCE" -eq 0 && "$current" == "$BASE_VERSION" ]]; then
    log "$NAME already exists with wm.base.version=$BASE_VERSION (use --force to rebuild)"
    printf '%s\n' "$NAME"
    return 0
  fi
  if [[ -n "$current" && "$current" != "$BASE_VERSION" ]]; then
    log "$NAME has wm.base.version=$current, building version $BASE_VERSION"
  fi

  local arch tarball
  if have dpkg; then
    arch="$(dpkg --print-architecture)"
  else
    case "$(uname -m)" in
      x86_64) arch=amd64 ;;
      aarch64) arch=arm64 ;;
      *) die "unknown architecture $(uname -m)" ;;
    esac
  fi
  tarball="$(cache_file "$arch")"

  if [[ "$NO_CACHE" -eq 0 && -s "$tarball" ]]; then
    log "using cached root file system $tarball"
  else
    build_tarball "$tarball" "$arch"
  fi

  local old_id
  old_id="$(rt image inspect --format '{{.Id}}' "$NAME" 2>/dev/null || true)"

  import_tarball "$tarball"

  # The image the name pointed at before --force is now untagged; remove it
  # unless something still uses it (a plain rmi refuses in that case).
  if [[ -n "$old_id" && "$old_id" != "$(rt image inspect --format '{{.Id}}' "$NAME" 2>/dev/null || true)" ]]; then
    rt image rm "$old_id" >/dev/null 2>&1 || true
  fi

  local size
  size="$(rt image inspect --format '{{.Size}}' "$NAME" 2>/dev/null || echo 0)"
  log "built $NAME ($(awk -v s="$size" 'BEGIN { printf "%.0f MB", s / 1000000 }')) in $(elapsed "$t0")s" \
    "[debootstrap ${T_DEBOOTSTRAP:-cached}${T_DEBOOTSTRAP:+s}, tar ${T_TAR:-cached}${T_TAR:+s}, import ${T_IMPORT}s]"
  printf '%s\n' "$NAME"
}

main "$@"
