import { realpath } from "node:fs/promises";
import path from "node:path";
import { unsafeChar } from "@wm/protocol";
import type { WmConfig } from "../config/index.ts";
import { recordWorktree, type WorktreeRecord } from "../sandbox/git-layout.ts";
import { gitWorktrees } from "./git-info.ts";
import { entryFromGit } from "./rebuild.ts";
import { mainGit, type Repo } from "./repo.ts";
import type { WorktreeService } from "./service.ts";
import type { WorktreeEntry } from "./state-store.ts";

export interface Untracked {
  /** Entries built from git, not stored: wm stores one when it opens a window for it. */
  entries: WorktreeEntry[];
  /** Linked worktrees without a branch (detached HEAD), by realpath: listed by git, not managed. */
  detached: string[];
}

/**
 * The linked worktrees git lists for `repo` (`git worktree list`) that have no entry in
 * `tracked` — made with plain `git worktree add`, by workmux, or by wm before its state was
 * lost — as entries: the handle is the directory's name, the branch the one checked out.
 *
 * Their git facts are the ones recorded when wm met the worktree (its first sandbox), else read
 * now with recordWorktree's checks both ways (the worktree's `.git` file and its admin dir under
 * `<repo>/.git/worktrees/` must name each other); a worktree whose facts disagree or belong to
 * another repository is left out. Where a sandbox ran, the branch is the one recorded then —
 * the only one that sandbox may move — whatever the worktree's HEAD says now.
 */
export async function untrackedWorktrees(
  svc: WorktreeService,
  repo: Repo,
  tracked: ReadonlySet<string>,
): Promise<Untracked> {
  const { daemon } = svc;
  const env = daemon.env as NodeJS.ProcessEnv;
  const found: Untracked = { entries: [], detached: [] };
  const listed = await gitWorktrees(mainGit(repo, env));
  let records: Map<string, WorktreeRecord> | undefined;
  let config: WmConfig | undefined;
  for (const w of listed) {
    if (w.prunable) continue;
    const real = await realpath(w.path).catch(() => undefined);
    if (!real || real === repo.root || tracked.has(real)) continue;
    records ??= new Map((await daemon.worktreeRecords.all()).map((r) => [r.worktreePath, r]));
    const recorded = records.get(real);
    const record = recorded ?? (await recordWorktree(real, { env }).catch(() => undefined));
    if (!record || record.commonDir !== repo.commonDir) continue;
    const branch = recorded?.branch !== undefined ? recorded.branch : w.branch;
    if (!branch) {
      found.detached.push(real);
      continue;
    }
    const handle = path.basename(real);
    if (unsafeChar(handle) !== undefined) {
      daemon.log.warn({ worktree: real }, "a linked worktree's directory name cannot be a handle");
      continue;
    }
    config ??= await svc.config(repo);
    const sandboxed = new Set(daemon.sandboxes.registry.all().map((s) => s.worktree));
    found.entries.push(
      await entryFromGit(svc, {
        repo,
        config,
        record,
        handle,
        branch,
        sandboxed: [sandboxed],
        tmux: null,
      }),
    );
  }
  return found;
}
