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
ln -sf "$PWD/dist/wm.cjs" "$bin_dir/wm"
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
  if [[ "$agent" == demo ]]; then
    # The demo agent is a script in the wm-sandbox:demo image; every pane runs sandboxed.
    printf 'agent: demo\nsandbox:\n  enabled: true\n  target: all\npanes:\n  - command: wm-demo-agent\n    focus: true\n' >"$repo/.workmux.yaml"
  else
    printf 'agent: %s\nsandbox:\n  enabled: true\n' "$agent" >"$repo/.workmux.yaml"
  fi
  git -C "$repo" add README.md .workmux.yaml
  git -C "$repo" commit -q -m "demo: initial commit"
fi
branch="agent-$(date +%H%M%S)"

log "wm add $branch: a worktree, a tmux window, and the $agent agent in a sandbox holding only that worktree"
(cd "$repo" && wm add "$branch" --background)
if [[ "$agent" == demo ]]; then
  log "waiting for the agent to report done (through the in-sandbox wm)"
  (cd "$repo" && wm wait "$branch" --status done --timeout 120)
fi
worktree="$(cd "$repo" && wm list --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const w=JSON.parse(s).worktrees.find(w=>w.branch===process.argv[1]);process.stdout.write(w?w.path:"")})' "$branch")"

cat >&2 <<MSG

wm: done. What happened:
  - wm add made the worktree $worktree on branch $branch
    and a tmux window (session "wm") whose agent pane runs in a sandbox: a container with only that
    worktree, the git data it needs and its own credentials — not your ~/.ssh, ~/.aws or other worktrees;
  - the agent committed on $branch:
$(git -C "$repo" log --format='      %h %s' -1 "$branch")
  - it reported its status through the in-sandbox wm, shown in the tmux window name.
Look around:
  tmux attach -t wm        # the agent's window
  cd $repo && wm list      # worktrees, windows, agent status
  wm dashboard             # every agent, live
  wm merge $branch         # merge its work (run in $repo)
MSG
