import type { WorktreeSummary } from "@wm/protocol";
import type { BusEvent } from "../events.ts";
import { branchExists, mainBranch } from "./git-info.ts";
import { mainGit } from "./repo.ts";
import type { WorktreeService } from "./service.ts";
import type { WorktreeEntry } from "./state-store.ts";

export type WorktreeDiff = NonNullable<WorktreeSummary["diff"]>;

const COUNTS = {
  files: /(\d+) files? changed/,
  added: /(\d+) insertions?\(\+\)/,
  removed: /(\d+) deletions?\(-\)/,
} as const;

/** `git diff --shortstat` output as counts; empty output is no change. */
export function parseShortstat(text: string): Omit<WorktreeDiff, "base"> {
  const count = (re: RegExp) => Number(re.exec(text)?.[1] ?? 0);
  return { files: count(COUNTS.files), added: count(COUNTS.added), removed: count(COUNTS.removed) };
}

/**
 * Each worktree's diff size against the main branch, computed once and kept until a status or
 * worktree event names the worktree (or a merge moves its repository's main branch), so listing
 * worktrees does not run git each time.
 */
export class DiffStats {
  readonly #cache = new Map<string, Promise<WorktreeDiff | null>>();
  #unsubscribe: (() => void) | undefined;

  constructor(private readonly svc: WorktreeService) {}

  get(entry: WorktreeEntry): Promise<WorktreeDiff | null> {
    this.#unsubscribe ??= this.svc.daemon.events.subscribe(["status", "worktree"], (event) =>
      this.#onEvent(event),
    );
    let diff = this.#cache.get(entry.path);
    if (!diff) {
      diff = this.#compute(entry);
      this.#cache.set(entry.path, diff);
    }
    return diff;
  }

  stop(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.#cache.clear();
  }

  #onEvent(event: BusEvent): void {
    const { worktree, repo } = event.data as { worktree?: unknown; repo?: unknown };
    if (typeof worktree !== "string") return;
    if (event.topic === "worktree" && event.type === "removed") {
      this.#cache.delete(worktree);
      return;
    }
    this.#refresh(worktree);
    if (event.type === "merged" && typeof repo === "string") {
      void this.svc.state.all().then((all) => {
        for (const e of all) if (e.repo === repo && e.path !== worktree) this.#refresh(e.path);
      });
    }
  }

  #refresh(worktreePath: string): void {
    if (!this.#cache.delete(worktreePath)) return;
    void this.svc.state
      .get(worktreePath)
      .then((entry) => (entry ? this.get(entry) : undefined))
      .catch(() => undefined);
  }

  async #compute(entry: WorktreeEntry): Promise<WorktreeDiff | null> {
    try {
      const repo = { root: entry.repo, commonDir: entry.commonDir };
      const git = mainGit(repo, this.svc.daemon.env);
      const configured = await this.svc
        .config(repo)
        .then((c) => c.main_branch)
        .catch(() => undefined);
      const base = await mainBranch(git, configured);
      if (!(await branchExists(git, base)) || !(await branchExists(git, entry.branch))) return null;
      const res = await git.run([
        "diff",
        "--shortstat",
        `refs/heads/${base}...refs/heads/${entry.branch}`,
        "--",
      ]);
      if (res.code !== 0) return null;
      return { base, ...parseShortstat(res.stdout) };
    } catch (err) {
      this.svc.daemon.log.debug({ err, worktree: entry.path }, "diff size not computed");
      return null;
    }
  }
}
