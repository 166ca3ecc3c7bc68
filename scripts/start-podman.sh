#!/usr/bin/env bash
# Make rootful Podman usable by wm, and serve its Docker-compatible API.
#
#   scripts/start-podman.sh [--no-verify] [--image wm-base:bookworm]
#
# 1. writes ${XDG_CONFIG_HOME:-$HOME/.config}/wm/containers.conf (no default
#    ulimits, runc; cgroupfs and file events when systemd does not run the
#    machine) and uses it through CONTAINERS_CONF; no system file changes;
# 2. starts `podman system service --time=0 unix:///run/podman/podman.sock`
#    in the background (log /var/log/wm-podman.log) unless it answers already;
# 3. waits until GET /v1.41/version answers on the socket, prints the socket
#    path on stdout;
# 4. verifies: imports the base image into Podman (build-base-image.sh
#    --runtime podman), runs `podman run --rm IMAGE true`, and creates, starts
#    and removes a container through the socket (the way dockerode does).
set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SCRIPTS_DIR="$(wm_scripts_dir)"
CONF_DIR="${XDG_CONFIG_HOME:-$HOME/.config}/wm"
CONF_FILE="$CONF_DIR/containers.conf"
SOCK="${WM_PODMAN_SOCKET:-/run/podman/podman.sock}"
PIDFILE="$(dirname "$SOCK")/wm-podman-service.pid"
LOG_FILE="${WM_PODMAN_LOG:-/var/log/wm-podman.log}"
WAIT_SECS="${WM_PODMAN_WAIT:-30}"
API="v1.41"
IMAGE="wm-base:bookworm"
VERIFY=1

usage() {
  cat >&2 <<'EOF'
usage: scripts/start-podman.sh [--no-verify] [--image NAME]

Starts rootful Podman's Docker-compatible API service on /run/podman/podman.sock
with wm's containers.conf, then checks that a container runs.
  --no-verify    skip importing the base image and the test containers
  --image NAME   image to import and test with (default wm-base:bookworm)
Environment: WM_PODMAN_SOCKET, WM_PODMAN_LOG (default /var/log/wm-podman.log),
             WM_PODMAN_WAIT (seconds, default 30), XDG_CONFIG_HOME.
Use the same configuration in your shell:
  export CONTAINERS_CONF="${XDG_CONFIG_HOME:-$HOME/.config}/wm/containers.conf"
EOF
}

parse_args() {
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --no-verify) VERIFY=0 ;;
      --image)
        [[ $# -ge 2 && -n "$2" ]] || die "--image needs a value"
        IMAGE="$2"
        shift
        ;;
      --image=*) IMAGE="${1#--image=}" ;;
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

systemd_runs_machine() { [[ -d /run/systemd/system ]]; }

write_conf() {
  mkdir -p "$CONF_DIR"
  local tmp
  tmp="$(mktemp "$CONF_DIR/.containers.conf.XXXXXX")"
  {
    printf '# Written by wm (scripts/start-podman.sh); used through CONTAINERS_CONF.\n'
    printf '# No system file is changed.\n\n'
    printf '[containers]\n'
    printf '# Podman'"'"'s default ulimits (nofile, nproc) cannot always be set\n'
    printf '# ("setrlimit RLIMIT_NOFILE: Operation not permitted"); inherit instead.\n'
    printf 'default_ulimits = []\n\n'
    printf '[engine]\n'
    printf '# crun fails on hosts with hybrid cgroups ("cgroups in hybrid mode\n'
    printf '# not supported"); runc works there.\n'
    printf 'runtime = "runc"\n'
    if ! systemd_runs_machine; then
      printf '# systemd does not run this machine: no systemd cgroups, no journald.\n'
      printf 'cgroup_manager = "cgroupfs"\n'
      printf 'events_logger = "file"\n'
    fi
  } >"$tmp"
  chmod 0644 "$tmp"
  if [[ -f "$CONF_FILE" ]] && cmp -s "$tmp" "$CONF_FILE"; then
    rm -f "$tmp"
    log "containers.conf unchanged: $CONF_FILE"
  else
    mv -f "$tmp" "$CONF_FILE"
    log "wrote $CONF_FILE"
  fi
  export CONTAINERS_CONF="$CONF_FILE"
}

# api METHOD PATH [JSON]: talk to the service over the Unix socket; prints
# the body, fails on HTTP errors.
api() {
  local method="$1" path="$2" body="${3:-}"
  if have curl; then
    local -a args=(-sS --max-time 60 --unix-socket "$SOCK" -X "$method" -w '\n%{http_code}')
    if [[ -n "$body" ]]; then
      args+=(-H 'Content-Type: application/json' --data "$body")
    fi
    local resp code
    resp="$(curl "${args[@]}" "http://d/$API$path")" || return 1
    code="${resp##*$'\n'}"
    printf '%s\n' "${resp%$'\n'*}"
    [[ "$code" =~ ^[0-9]+$ ]] && ((code < 400))
  elif have node; then
    # shellcheck disable=SC2016 # JavaScript, not shell
    node -e '
      const [sock, method, path, body] = process.argv.slice(1);
      const req = require("http").request({ socketPath: sock, method, path,
        headers: body ? { "Content-Type": "application/json" } : {} }, (res) => {
        let out = ""; res.on("data", (c) => (out += c));
        res.on("end", () => { process.stdout.write(out);
          process.exit(res.statusCode < 400 ? 0 : 22); });
      });
      req.setTimeout(60000, () => req.destroy(new Error("timeout")));
      req.on("error", (e) => { console.error(e.message); process.exit(7); });
      if (body) req.write(body);
      req.end();' "$SOCK" "$method" "/$API$path" "$body"
  else
    die "neither curl nor node is installed: cannot reach $SOCK"
  fi
}

api_answers() { [[ -S "$SOCK" ]] && api GET /version >/dev/null 2>&1; }

our_service_running() {
  [[ -s "$PIDFILE" ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null
}

print_log_tail() {
  if [[ -r "$LOG_FILE" ]]; then
    err "last lines of $LOG_FILE:"
    tail -n 30 "$LOG_FILE" | sed 's/^/  | /' >&2
  fi
}

start_service() {
  if api_answers; then
    if our_service_running; then
      log "podman service already answers on $SOCK (pid $(cat "$PIDFILE"))"
    else
      warn "something already serves $SOCK (not started by wm, e.g. podman.socket);"
      warn "containers it creates may not use $CONF_FILE"
    fi
    return 0
  fi

  mkdir -p "$(dirname "$SOCK")"
  if our_service_running; then
    log "stopping unresponsive podman service (pid $(cat "$PIDFILE"))"
    kill "$(cat "$PIDFILE")" 2>/dev/null || true
    sleep 1
  fi
  if [[ -e "$SOCK" ]]; then
    rm -f "$SOCK" # stale socket from a service that is gone
  fi

  mkdir -p "$(dirname "$LOG_FILE")"
  printf '\n==== wm: podman system service started %s ====\n' "$(date -Is)" >>"$LOG_FILE"
  setsid nohup env CONTAINERS_CONF="$CONF_FILE" \
    podman system service --time=0 "unix://$SOCK" >>"$LOG_FILE" 2>&1 </dev/null &
  local pid=$!
  printf '%s\n' "$pid" >"$PIDFILE"
  log "started podman system service (pid $pid, log $LOG_FILE)"

  local t0 deadline=$((SECONDS + WAIT_SECS))
  t0="$(now)"
  while ! api_answers; do
    if ! kill -0 "$pid" 2>/dev/null; then
      err "podman system service exited during startup"
      print_log_tail
      exit 1
    fi
    if ((SECONDS >= deadline)); then
      err "$SOCK did not answer GET /$API/version within ${WAIT_SECS}s"
      print_log_tail
      exit 1
    fi
    sleep 0.3
  done
  log "podman API answered after $(elapsed "$t0")s"
}

# Known failure messages and what fixes them.
explain_failure() {
  local out="$1"
  case "$out" in
    *RLIMIT*"not permitted"* | *"error setting rlimit"*)
      err "hint: the default ulimits could not be applied; is CONTAINERS_CONF=$CONF_FILE (default_ulimits = []) in effect?"
      ;;
    *"hybrid mode"*)
      err "hint: crun rejects hybrid cgroups here; runtime = \"runc\" in $CONF_FILE must be in effect (is runc installed?)"
      ;;
    *"cgroup"*)
      err "hint: cgroup setup failed; try cgroup_manager = \"cgroupfs\" in $CONF_FILE"
      ;;
  esac
}

verify() {
  local failed=0 out t

  t="$(now)"
  log "verify: import $IMAGE into podman"
  if ! "$SCRIPTS_DIR/build-base-image.sh" --runtime podman --name "$IMAGE" >/dev/null; then
    err "verify FAILED: build-base-image.sh --runtime podman --name $IMAGE"
    return 1
  fi
  log "verify: image ready in $(elapsed "$t")s"

  t="$(now)"
  log "verify: podman run --rm $IMAGE true"
  if out="$(podman run --rm "$IMAGE" true 2>&1 </dev/null)"; then
    log "verify: podman run ok ($(elapsed "$t")s)"
  else
    err "verify FAILED: CONTAINERS_CONF=$CONF_FILE podman run --rm $IMAGE true:"
    printf '%s\n' "$out" | sed 's/^/  | /' >&2
    explain_failure "$out"
    failed=1
  fi

  t="$(now)"
  log "verify: create, start, wait, remove a container through $SOCK"
  local id="" body
  body="$(printf '{"Image":"%s","Cmd":["true"],"HostConfig":{"CapDrop":["ALL"],"SecurityOpt":["no-new-privileges"]}}' "$IMAGE")"
  if ! out="$(api POST /containers/create "$body" 2>&1)"; then
    err "verify FAILED: POST /$API/containers/create: $out"
    return 1
  fi
  id="$(printf '%s' "$out" | sed -n 's/.*"Id"[[:space:]]*:[[:space:]]*"\([0-9a-f]*\)".*/\1/p')"
  if [[ -z "$id" ]]; then
    err "verify FAILED: POST /$API/containers/create returned no Id: $out"
    return 1
  fi
  if ! out="$(api POST "/containers/$id/start" 2>&1)"; then
    err "verify FAILED: POST /$API/containers/${id:0:12}/start: $out"
    explain_failure "$out"
    failed=1
  elif ! out="$(api POST "/containers/$id/wait" 2>&1)"; then
    err "verify FAILED: POST /$API/containers/${id:0:12}/wait: $out"
    failed=1
  elif [[ "$out" != *'"StatusCode":0'* ]]; then
    err "verify FAILED: container through the API exited abnormally: $out"
    failed=1
  else
    log "verify: API container ok ($(elapsed "$t")s)"
  fi
  api DELETE "/containers/$id?force=true" >/dev/null 2>&1 || warn "could not remove test container ${id:0:12}"

  return "$failed"
}

main() {
  parse_args "$@"

  if ! is_root; then
    err "this sets up rootful Podman and needs root: sudo $0"
    err "(rootless Podman is configured per user and is not handled by this script)"
    exit 1
  fi
  have podman || die "podman is not installed; run scripts/install-deps.sh --with-podman"

  write_conf
  start_service

  local version
  version="$(api GET /version 2>/dev/null | sed -n 's/.*"ApiVersion"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p' || true)"
  log "podman $(podman --version </dev/null | awk '{ print $NF }'), Docker API ${version:-?} on unix://$SOCK"

  if [[ "$VERIFY" -eq 1 ]]; then
    if ! verify; then
      err "podman is running, but the checks above failed"
      exit 1
    fi
    log "podman works (CONTAINERS_CONF=$CONF_FILE)"
  fi
  log "use it with: export CONTAINERS_CONF=$CONF_FILE DOCKER_HOST=unix://$SOCK"
  printf '%s\n' "$SOCK"
}

main "$@"
