import { access } from "node:fs/promises";
import { BranchSync, type BranchSyncTarget } from "./branch-sync.ts";
import type { WorktreeRecord } from "./git-layout.ts";
import { type GitShadow, gitShadowFor, prepareGitShadow } from "./git-shadow.ts";

type Env = Readonly<Record<string, string | undefined>>;
type Log = { warn(obj: object, msg: string): void };

/**
 * The git shadows of live sandboxes: prepared when one starts, watched while it runs, and its
 * branch carried into the repository when it changes, when the agent reports a status and when
 * the sandbox ends (see decision 0006).
 */
export class GitShadows {
  readonly #sync: BranchSync;
  readonly #bySandbox = new Map<string, BranchSyncTarget>();
  /** Sandboxes whose branch is being watched (each started or adopted once). */
  readonly #watched = new Set<string>();

  constructor(
    private readonly stateDir: string,
    env: Env,
    private readonly log: Log,
  ) {
    this.#sync = new BranchSync(env, log);
  }

  /** A worktree's shadow and the branch its sandboxes may move. */
  target(record: WorktreeRecord): BranchSyncTarget {
    return {
      record,
      shadow: gitShadowFor(this.stateDir, record),
      branch: record.branch ?? null,
    };
  }

  /** Carries the worktree's branch over now; failures are logged, not thrown. */
  async sync(target: BranchSyncTarget): Promise<void> {
    await this.#sync
      .sync(target)
      .catch((err) =>
        this.log.warn({ err, worktree: target.record.worktreePath }, "branch sync failed"),
      );
  }

  /**
   * The shadow for sandbox `id`. When no other sandbox of the worktree runs (`othersLive`
   * false), the branch is carried over first and the shadow's refs are copied afresh.
   */
  async prepare(
    id: string,
    record: WorktreeRecord,
    owner: { uid: number; gid: number },
    othersLive: () => boolean,
  ): Promise<GitShadow> {
    const target = this.target(record);
    await this.#sync.exclusive(target, async (syncNow) => {
      const alone = !othersLive();
      const fresh = !(await exists(target.shadow.refs));
      if (alone && !fresh) await syncNow();
      const reseed = alone || fresh;
      await prepareGitShadow(target.shadow, record, owner, { reseed, branch: target.branch });
      if (reseed) await this.#sync.markSynced(target);
    });
    this.#bySandbox.set(id, target);
    return target.shadow;
  }

  /** Sandbox `id` runs (started now, or adopted after a restart): follow its branch. */
  running(id: string, record?: WorktreeRecord): void {
    if (record) this.#bySandbox.set(id, this.target(record));
    const target = this.#bySandbox.get(id);
    if (!target || this.#watched.has(id)) return;
    this.#watched.add(id);
    this.#sync.watch(target);
  }

  /** Carries sandbox `id`'s branch over now (it reported a status: its work is worth seeing). */
  async syncSandbox(id: string): Promise<void> {
    const target = this.#bySandbox.get(id);
    if (target) await this.sync(target);
  }

  /** Sandbox `id` is gone: stop following its branch and carry over its last commits. */
  async ended(id: string): Promise<void> {
    const target = this.#bySandbox.get(id);
    if (!target) return;
    this.#bySandbox.delete(id);
    if (this.#watched.delete(id)) this.#sync.unwatch(target.record);
    await this.sync(target);
  }

  /** Sandbox `id` never ran (a prepared sandbox dropped): nothing of it to carry over. */
  forget(id: string): void {
    this.#bySandbox.delete(id);
  }

  close(): void {
    this.#sync.close();
  }
}

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );
