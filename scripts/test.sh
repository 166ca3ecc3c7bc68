#!/usr/bin/env bash
# The whole test suite, from a fresh Debian machine with only Node and npm:
# installs what is missing, then lint, type-check, protocol-doc check, build and every test.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

bash scripts/install-deps.sh --with-podman --with-qemu
bash scripts/start-docker.sh
bash scripts/build-base-image.sh
if is_root; then
  # Podman's Docker-compatible API for the Podman runs of the sandbox tests.
  WM_PODMAN_SOCKET="$(bash scripts/start-podman.sh)"
  export WM_PODMAN_SOCKET
  export CONTAINERS_CONF="${XDG_CONFIG_HOME:-$HOME/.config}/wm/containers.conf"
fi

for tool in git tmux docker podman qemu-system-x86_64 qemu-img; do
  have "$tool" || die "$tool is required by the test suite and is still missing after install-deps.sh"
done

log "installing node dependencies"
pnpm install --frozen-lockfile --reporter=silent

log "lint (biome)"
pnpm exec biome check .
log "type-check (tsc --noEmit, strict)"
pnpm exec tsc -p tsconfig.json --noEmit
log "protocol reference is up to date"
pnpm exec tsx scripts/gen-protocol-doc.ts --check

log "tests (vitest)"
pnpm exec vitest run "$@"
