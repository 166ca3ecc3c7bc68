#!/usr/bin/env bash
# Install what wm needs on a Debian/Ubuntu machine, and nothing else.
#
#   scripts/install-deps.sh [--with-podman] [--with-qemu] [--dry-run]
#
# Idempotent: every dependency is checked first (the command it provides on
# PATH, or the Debian package being installed); only missing ones are
# installed. `apt-get update` runs at most once, and only when a package has
# to be installed. As non-root it uses `sudo -n` when that works without a
# password; otherwise it prints what to install and exits 1.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
  cat >&2 <<'EOF'
usage: scripts/install-deps.sh [--with-podman] [--with-qemu] [--dry-run]

Installs what is missing of: pnpm 10 (npm install -g), and from Debian's
packages git, tmux, docker.io, debootstrap, bubblewrap, ca-certificates, zsh, fish
(the shells whose completion scripts the tests drive).
  --with-podman  also podman, runc, catatonit, uidmap, slirp4netns, fuse-overlayfs
  --with-qemu    also qemu-system-x86, qemu-utils, e2fsprogs (the VM backend and its tests)
                 and nix-bin (the sandbox.toolchain: flake test runs nix develop)
  --dry-run      only print what is missing (exit 0 when nothing is)
EOF
}

WITH_PODMAN=0
WITH_QEMU=0
DRY_RUN=0

parse_args() {
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --with-podman) WITH_PODMAN=1 ;;
      --with-qemu) WITH_QEMU=1 ;;
      --dry-run) DRY_RUN=1 ;;
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
}

# dpkg_installed PKG: the Debian package is installed (not just known).
dpkg_installed() {
  have dpkg-query || return 1
  [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" == "install ok installed" ]]
}

# satisfied PKG: what PKG provides is already here (from that package or
# from elsewhere, e.g. Docker CE instead of docker.io).
satisfied() {
  local pkg="$1"
  dpkg_installed "$pkg" && return 0
  case "$pkg" in
    git) have git ;;
    tmux) have tmux ;;
    docker.io) have dockerd || docker_ok ;;
    debootstrap) have debootstrap ;;
    bubblewrap) have bwrap ;;
    ca-certificates) [[ -s /etc/ssl/certs/ca-certificates.crt ]] ;;
    zsh) have zsh ;;
    fish) have fish ;;
    podman) have podman ;;
    runc) have runc ;;
    uidmap) have newuidmap && have newgidmap ;;
    slirp4netns) have slirp4netns ;;
    fuse-overlayfs) have fuse-overlayfs ;;
    qemu-system-x86) have qemu-system-x86_64 ;;
    qemu-utils) have qemu-img ;;
    e2fsprogs) have mke2fs || [[ -x /usr/sbin/mke2fs || -x /sbin/mke2fs ]] ;;
    nix-bin) have nix ;;
    *) return 1 ;;
  esac
}

# pnpm_ok: pnpm is on PATH with major version >= 10.
pnpm_ok() {
  have pnpm || return 1
  local v
  v="$(pnpm --version 2>/dev/null </dev/null || true)"
  [[ "${v%%.*}" =~ ^[0-9]+$ ]] && ((${v%%.*} >= 10))
}

# npm_global_writable: `npm install -g` works without root.
npm_global_writable() {
  local prefix
  prefix="$(npm prefix -g 2>/dev/null </dev/null || true)"
  [[ -n "$prefix" && -w "$prefix" && (! -e "$prefix/lib/node_modules" || -w "$prefix/lib/node_modules") ]]
}

print_manual_steps() {
  local -a pkgs=("$@")
  err "cannot install as $(id -un) (not root, and sudo -n does not work). Run as root:"
  if [[ ${#pkgs[@]} -gt 0 ]]; then
    printf '  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends %s\n' "${pkgs[*]}" >&2
  fi
  if [[ "$NEED_PNPM" -eq 1 ]]; then
    printf '  npm install -g pnpm@10\n' >&2
  fi
}

NEED_PNPM=0

main() {
  parse_args "$@"

  local -a wanted=(git tmux docker.io debootstrap bubblewrap ca-certificates openssl iproute2 zsh fish)
  if [[ "$WITH_PODMAN" -eq 1 ]]; then
    wanted+=(podman runc catatonit uidmap slirp4netns fuse-overlayfs)
  fi
  if [[ "$WITH_QEMU" -eq 1 ]]; then
    wanted+=(qemu-system-x86 qemu-utils e2fsprogs nix-bin)
  fi

  local -a missing=()
  local pkg
  for pkg in "${wanted[@]}"; do
    if ! satisfied "$pkg"; then
      missing+=("$pkg")
    fi
  done

  if ! pnpm_ok; then
    NEED_PNPM=1
  fi

  if [[ ${#missing[@]} -eq 0 && "$NEED_PNPM" -eq 0 ]]; then
    log "all dependencies present (${wanted[*]} pnpm)"
    return 0
  fi

  if [[ ${#missing[@]} -gt 0 ]]; then
    log "missing packages: ${missing[*]}"
  fi
  if [[ "$NEED_PNPM" -eq 1 ]]; then
    log "missing: pnpm >= 10"
  fi
  if [[ "$DRY_RUN" -eq 1 ]]; then
    return 1
  fi

  local have_privs=0
  if need_root_or_sudo; then
    have_privs=1
  fi

  if [[ ${#missing[@]} -gt 0 ]]; then
    if ! have apt-get; then
      err "apt-get not found: this script installs from Debian/Ubuntu packages."
      err "install these with your package manager: ${missing[*]}"
      exit 1
    fi
    if [[ "$have_privs" -eq 0 ]]; then
      print_manual_steps "${missing[@]}"
      exit 1
    fi
    local t0
    t0="$(now)"
    log "apt-get update"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q \
      -o DPkg::Lock::Timeout=300 </dev/null >&2
    log "apt-get install ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
      --no-install-recommends -o Dpkg::Use-Pty=0 -o DPkg::Lock::Timeout=300 \
      -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
      "${missing[@]}" </dev/null >&2
    log "packages installed in $(elapsed "$t0")s"
  fi

  if [[ "$NEED_PNPM" -eq 1 ]]; then
    if ! have npm; then
      die "npm not found: install Node.js 20 (with npm) first, then re-run"
    fi
    local t1
    t1="$(now)"
    log "npm install -g pnpm@10"
    if npm_global_writable; then
      npm install -g pnpm@10 </dev/null >&2
    elif [[ "$have_privs" -eq 1 ]]; then
      as_root npm install -g pnpm@10 </dev/null >&2
    else
      NEED_PNPM=1
      print_manual_steps
      exit 1
    fi
    hash -r
    pnpm_ok || die "pnpm was installed but 'pnpm --version' does not report >= 10 (PATH: $PATH)"
    log "pnpm $(pnpm --version </dev/null) installed in $(elapsed "$t1")s"
  fi

  # Verify: everything asked for is now present.
  local -a still=()
  for pkg in "${wanted[@]}"; do
    satisfied "$pkg" || still+=("$pkg")
  done
  if [[ ${#still[@]} -gt 0 ]]; then
    die "still missing after install: ${still[*]}"
  fi
  log "all dependencies present"
}

main "$@"
