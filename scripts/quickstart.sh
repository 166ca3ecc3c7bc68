#!/usr/bin/env bash
# First Quickstart command: from a fresh Debian machine with only Node and npm, install what
# is missing, build wm, put `wm` on PATH, start the daemon and check the machine.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

bash scripts/install-deps.sh
bash scripts/start-docker.sh
log "installing node dependencies"
pnpm install --frozen-lockfile --reporter=silent
log "building dist/"
pnpm run --silent build

bin_dir=/usr/local/bin
if ! is_root; then
  bin_dir="$HOME/.local/bin"
  mkdir -p "$bin_dir"
fi
ln -sf "$PWD/dist/wm.js" "$bin_dir/wm"
log "wm is on PATH as $bin_dir/wm"
case ":$PATH:" in
  *":$bin_dir:"*) ;;
  *) warn "$bin_dir is not on your PATH; add it: export PATH=\"$bin_dir:\$PATH\"" ;;
esac

"$bin_dir/wm" daemon start
"$bin_dir/wm" doctor || warn "wm doctor reports a failed check above; each line says how to fix it"
cat >&2 <<'MSG'

wm: ready. Try:
  wm daemon status      # the per-user daemon
  wm config             # effective configuration and where each key came from
  wm doctor             # what this machine has for sandboxes
  wm --help
MSG
