# shellcheck shell=bash
# Shared helpers for the wm setup scripts. Source it, do not execute it:
#
#   . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# Everything here writes to stderr; stdout is left to the calling script for
# machine-readable output.

if [[ -n "${WM_LIB_SH_LOADED:-}" ]]; then
  return 0
fi
WM_LIB_SH_LOADED=1

# Non-interactive everywhere: no debconf questions, no pagers.
export DEBIAN_FRONTEND=noninteractive
export PAGER=cat

log() { printf 'wm: %s\n' "$*" >&2; }
warn() { printf 'wm: warning: %s\n' "$*" >&2; }
err() { printf 'wm: error: %s\n' "$*" >&2; }
die() {
  err "$@"
  exit 1
}

# have CMD: true when CMD is on PATH (or a shell builtin/function).
have() { command -v "$1" >/dev/null 2>&1; }

is_root() { [[ "$(id -u)" -eq 0 ]]; }

# need_root_or_sudo: returns 0 when we are root or can use sudo without a
# password prompt (sudo -n); sets WM_SUDO accordingly ("" or "sudo -n").
# Returns 1 otherwise; the caller decides what to print.
WM_SUDO=""
need_root_or_sudo() {
  if is_root; then
    WM_SUDO=""
    return 0
  fi
  if have sudo && sudo -n true </dev/null >/dev/null 2>&1; then
    WM_SUDO="sudo -n"
    return 0
  fi
  return 1
}

# as_root CMD...: run CMD as root (directly or through sudo -n). Call
# need_root_or_sudo first.
as_root() {
  if is_root; then
    "$@"
  else
    # shellcheck disable=SC2086 # WM_SUDO is "sudo -n" on purpose
    $WM_SUDO "$@"
  fi
}

# now: wall-clock seconds with sub-second precision (bash >= 5 has
# EPOCHREALTIME; fall back to date).
now() {
  if [[ -n "${EPOCHREALTIME:-}" ]]; then
    printf '%s\n' "${EPOCHREALTIME/,/.}"
  else
    date +%s.%N
  fi
}

# elapsed START: seconds since START (from `now`), one decimal.
elapsed() {
  awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'
}

# with_timeout SECONDS CMD...: run CMD with a time limit when `timeout` exists.
with_timeout() {
  local secs="$1"
  shift
  if have timeout; then
    timeout "$secs" "$@"
  else
    "$@"
  fi
}

# docker_ok: the Docker client is installed and its daemon answers.
docker_ok() {
  have docker && with_timeout 20 docker info >/dev/null 2>&1
}

# wm_scripts_dir: absolute directory of the scripts (this file's directory).
wm_scripts_dir() {
  cd "$(dirname "${BASH_SOURCE[0]}")" && pwd
}
