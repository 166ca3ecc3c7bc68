#!/bin/sh
# wm demo agent: the sandbox round trip without a real agent. In the worktree it starts in it
# reports "working" through the wm shim, appends a line to a file, commits it, and reports
# "done". Exits 2 when a status could not be set, non-zero when the edit or commit failed.
#
# Environment: WM_DEMO_FILE (default wm-demo.md), WM_DEMO_DELAY (seconds between steps,
# default 2), WM_DEMO_MESSAGE (commit message).
set -eu

say() { printf 'demo-agent: %s\n' "$*"; }

status_failed=0
set_status() {
  if command -v wm >/dev/null 2>&1 && wm status set "$1"; then
    say "status: $1"
  else
    say "could not set status '$1' (is the wm shim mounted on /opt/wm?)" >&2
    status_failed=1
  fi
}

file=${WM_DEMO_FILE:-wm-demo.md}
delay=${WM_DEMO_DELAY:-2}
message=${WM_DEMO_MESSAGE:-"demo: update $file"}

if ! top=$(git rev-parse --show-toplevel 2>/dev/null); then
  say "not inside a git worktree: $(pwd)" >&2
  exit 1
fi

set_status "working"
sleep "$delay"

printf -- '- %s: edited by the wm demo agent in %s\n' \
  "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(basename "$top")" >>"$file"
say "edited $file"

set --
git config user.name >/dev/null 2>&1 || set -- "$@" -c "user.name=wm demo agent"
git config user.email >/dev/null 2>&1 || set -- "$@" -c "user.email=demo-agent@wm.invalid"
git add -- "$file"
git "$@" commit -q -m "$message" -- "$file"
say "committed $(git log -1 --format='%h %s')"

sleep "$delay"
set_status "done"
[ "$status_failed" -eq 0 ] || exit 2
