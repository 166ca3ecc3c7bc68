#!/usr/bin/env bash
# First Quickstart command: from a fresh Debian machine with only Node and npm, install what
# is missing, build wm, put `wm` on PATH, build the sandbox image offline, and run a demo agent
# in a sandbox in its own git worktree: it edits a file, commits, and reports its status
# through the in-sandbox `wm`. Set WM_QUICKSTART_AGENT=claude to use Claude Code instead.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib.sh
source scripts/lib.sh

agent="${WM_QUICKSTART_AGENT:-demo}"
bash scripts/install-deps.sh
bash scripts/start-docker.sh
bash scripts/build-base-image.sh
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
export PATH="$bin_dir:$PATH"
log "wm is on PATH as $bin_dir/wm"

wm daemon start
log "building the sandbox image for agent '$agent' (offline, on wm-base:bookworm)"
wm sandbox build --agent "$agent"

demo_root="${WM_QUICKSTART_DIR:-$HOME/wm-quickstart}"
repo="$demo_root/demo"
if [[ ! -d "$repo/.git" ]]; then
  log "creating a demo repository in $repo"
  mkdir -p "$repo"
  git -C "$repo" init -q -b main
  git -C "$repo" config user.name "wm quickstart"
  git -C "$repo" config user.email "quickstart@wm.invalid"
  printf '# wm demo\n\nAgents edit this repository in their own worktrees.\n' >"$repo/README.md"
  git -C "$repo" add README.md
  git -C "$repo" commit -q -m "demo: initial commit"
fi
branch="agent-$(date +%H%M%S)"
worktree="$demo_root/demo__worktrees/$branch"
git -C "$repo" worktree add -q -b "$branch" "$worktree"
log "worktree $worktree on branch $branch"

log "running the $agent agent in a sandbox that holds only that worktree"
if [[ "$agent" == demo ]]; then
  WM_DEMO_DELAY=1 wm sandbox run --agent demo --worktree "$worktree" -- wm-demo-agent
else
  wm sandbox run --agent "$agent" --worktree "$worktree" -- "$agent"
fi

cat >&2 <<MSG

wm: done. What happened:
  - the agent ran in a container with only $worktree, the git data it needs,
    and its own credentials (~/.claude-sandbox*) — not your ~/.ssh, ~/.aws or other worktrees;
  - it committed on branch $branch:
$(git -C "$repo" log --format='      %h %s' -1 "$branch")
  - it reported its status through the in-sandbox wm (see the daemon log: wm daemon logs).
Look around:
  wm sandbox list          # sandboxes the daemon owns
  wm sandbox shell --worktree $worktree
  wm doctor                # what this machine has
MSG
