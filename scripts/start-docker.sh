#!/usr/bin/env bash
# Make sure a Docker engine answers.
#
#   scripts/start-docker.sh
#
# Exits 0 at once when `docker info` already works. Otherwise, as root with
# dockerd installed, starts the docker systemd unit when systemd runs this
# machine, else starts `dockerd` in the background (detached with setsid +
# nohup, log in /var/log/wm-dockerd.log) and waits up to WM_DOCKER_WAIT
# seconds (default 60) for it. As non-root it explains what to do.
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DOCKERD_LOG="${WM_DOCKERD_LOG:-/var/log/wm-dockerd.log}"
DOCKERD_PIDFILE="/run/wm-dockerd.pid"
WAIT_SECS="${WM_DOCKER_WAIT:-60}"

usage() {
  cat >&2 <<'EOF'
usage: scripts/start-docker.sh

Starts the Docker engine when `docker info` does not already work.
Environment: WM_DOCKER_WAIT (seconds to wait, default 60),
             WM_DOCKERD_LOG (default /var/log/wm-dockerd.log).
EOF
}

explain_non_root() {
  local sock="/var/run/docker.sock"
  if [[ -S "$sock" ]]; then
    err "the Docker daemon seems to run, but $(id -un) cannot use $sock."
    err "add yourself to the docker group, then log in again (or run 'newgrp docker'):"
    printf '  sudo usermod -aG docker %s\n' "$(id -un)" >&2
    err "(membership in the docker group is equivalent to root on this machine)"
  else
    err "the Docker daemon is not running, and starting it needs root. Either:"
    printf '  sudo systemctl enable --now docker      # machines run by systemd\n' >&2
    printf '  sudo %s                                # otherwise\n' "$0" >&2
    err "then let $(id -un) use it:"
    printf '  sudo usermod -aG docker %s && newgrp docker\n' "$(id -un)" >&2
  fi
}

print_log_tail() {
  if [[ -r "$DOCKERD_LOG" ]]; then
    err "last lines of $DOCKERD_LOG:"
    tail -n 40 "$DOCKERD_LOG" | sed 's/^/  | /' >&2
  fi
}

# dockerd_running: a dockerd process exists (started by us or anyone else).
dockerd_running() {
  if [[ -s "$DOCKERD_PIDFILE" ]] && kill -0 "$(cat "$DOCKERD_PIDFILE")" 2>/dev/null; then
    return 0
  fi
  have pgrep && pgrep -x dockerd >/dev/null 2>&1
}

systemd_manages_docker() {
  [[ -d /run/systemd/system ]] && have systemctl &&
    systemctl list-unit-files docker.service >/dev/null 2>&1 &&
    systemctl cat docker.service >/dev/null 2>&1
}

start_dockerd_detached() {
  mkdir -p "$(dirname "$DOCKERD_LOG")"
  {
    printf '\n==== wm: dockerd started %s ====\n' "$(date -Is)"
  } >>"$DOCKERD_LOG"
  # setsid: own session, so the daemon survives the shell that called us;
  # nohup: ignore SIGHUP; stdin from /dev/null: never reads the terminal.
  setsid nohup dockerd >>"$DOCKERD_LOG" 2>&1 </dev/null &
  local pid=$!
  printf '%s\n' "$pid" >"$DOCKERD_PIDFILE"
  log "started dockerd (pid $pid, log $DOCKERD_LOG)"
}

wait_for_docker() {
  local deadline=$((SECONDS + WAIT_SECS))
  while ((SECONDS < deadline)); do
    if docker_ok; then
      return 0
    fi
    # Give up early when the daemon we started has already exited.
    if [[ -s "$DOCKERD_PIDFILE" ]] && ! kill -0 "$(cat "$DOCKERD_PIDFILE")" 2>/dev/null &&
      ! dockerd_running; then
      err "dockerd exited during startup"
      return 1
    fi
    sleep 0.5
  done
  err "docker did not answer within ${WAIT_SECS}s"
  return 1
}

report() {
  local driver cgroup version
  driver="$(docker info --format '{{.Driver}}' 2>/dev/null || echo '?')"
  cgroup="$(docker info --format '{{.CgroupDriver}} v{{.CgroupVersion}}' 2>/dev/null || echo '?')"
  version="$(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?')"
  log "docker $version ready: storage driver $driver, cgroup $cgroup"
  if [[ "$driver" != "overlay2" ]]; then
    warn "storage driver is '$driver', not overlay2: image builds will be slow"
  fi
  if ! docker network inspect bridge >/dev/null 2>&1; then
    warn "no 'bridge' network: containers will have no network (is iptables installed?)"
  fi
}

main() {
  case "${1:-}" in
    "") ;;
    -h | --help)
      usage
      exit 0
      ;;
    *)
      usage
      die "unknown argument: $1"
      ;;
  esac

  have docker || die "the docker client is not installed; run scripts/install-deps.sh"

  if docker_ok; then
    log "docker already answers"
    report
    return 0
  fi

  if ! is_root; then
    explain_non_root
    exit 1
  fi

  have dockerd || die "dockerd is not installed; run scripts/install-deps.sh"

  local t0
  t0="$(now)"
  if systemd_manages_docker; then
    log "systemctl start docker"
    systemctl start docker || true
  elif dockerd_running; then
    log "a dockerd process is already running; waiting for it to answer"
  else
    start_dockerd_detached
  fi

  if ! wait_for_docker; then
    print_log_tail
    if systemd_manages_docker; then
      err "see also: journalctl -u docker --no-pager -n 50"
    fi
    exit 1
  fi
  log "docker answered after $(elapsed "$t0")s"
  report
}

main "$@"
