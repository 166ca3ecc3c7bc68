import { type FSWatcher, promises as fs, watch } from "node:fs";
import path from "node:path";
import { atomicWrite } from "../fs/atomic-write.ts";
import { createSafeGit } from "../git/safe-git.ts";
import type { WorktreeRecord } from "./git-layout.ts";
import { type GitShadow, readRegular, writeIfChanged } from "./git-shadow.ts";

type Env = Readonly<Record<string, string | undefined>>;

const OBJECT_ID = /^([0-9a-f]{40}|[0-9a-f]{64})\n?$/;

export type SyncOutcome = "unchanged" | "updated" | "refused";

export interface BranchSyncTarget {
  record: WorktreeRecord;
  shadow: GitShadow;
  /** The branch the worktree had checked out when wm recorded it; null: nothing is carried over. */
  branch: string | null;
}

/**
 * The agent's branch as its sandbox last wrote it, read without following a symlink anywhere
 * below the shadow's refs directory; undefined when it is not a plain object id.
 */
async function shadowTip(shadow: GitShadow, branch: string): Promise<string | undefined> {
  let dir = shadow.refs;
  const parts = ["heads", ...branch.split("/")];
  for (const part of parts.slice(0, -1)) {
    dir = path.join(dir, part);
    const st = await fs.lstat(dir).catch(() => undefined);
    if (!st?.isDirectory()) return undefined;
  }
  const data = await readRegular(path.join(dir, parts.at(-1) ?? ""));
  const match = data ? OBJECT_ID.exec(data.toString("latin1")) : null;
  return match?.[1];
}

/**
 * Carries the agent's own branch from its shadow into the repository: fetches the commit (git
 * checks every object it takes) and moves `refs/heads/<branch>` with `update-ref`, so host git
 * writes only its own refs and reflogs. Nothing else the agent changed in its refs leaves the
 * shadow. Runs one at a time per worktree.
 */
export class BranchSync {
  readonly #queues = new Map<string, Promise<unknown>>();
  readonly #watchers = new Map<string, { watcher: FSWatcher; users: number }>();

  constructor(
    private readonly env: Env,
    private readonly log: { warn(obj: object, msg: string): void },
  ) {}

  sync(target: BranchSyncTarget): Promise<SyncOutcome> {
    return this.exclusive(target, (syncNow) => syncNow());
  }

  /**
   * Runs `fn` while no sync or other exclusive work on the same worktree runs (preparing the
   * shadow for a sandbox, say); `syncNow` syncs from inside it.
   */
  exclusive<T>(
    target: BranchSyncTarget,
    fn: (syncNow: () => Promise<SyncOutcome>) => Promise<T>,
  ): Promise<T> {
    const key = target.record.adminDir;
    const run = (this.#queues.get(key) ?? Promise.resolve())
      .catch(() => undefined)
      .then(() => fn(() => this.#syncNow(target)));
    this.#queues.set(key, run);
    void run
      .finally(() => {
        if (this.#queues.get(key) === run) this.#queues.delete(key);
      })
      .catch(() => undefined);
    return run;
  }

  /**
   * Records the shadow's branch as carried over, after its refs were copied from the repository:
   * a copy is never taken for the agent's work.
   */
  async markSynced({ shadow, branch }: Pick<BranchSyncTarget, "shadow" | "branch">): Promise<void> {
    const tip = branch ? await shadowTip(shadow, branch) : undefined;
    if (tip) await writeIfChanged(shadow.syncedFile, `${tip}\n`);
    else await fs.rm(shadow.syncedFile, { force: true });
  }

  /** Syncs whenever the sandbox rewrites its branch, until {@link unwatch} was called as often. */
  watch(target: BranchSyncTarget): void {
    const { branch } = target;
    if (!branch) return;
    const key = target.record.adminDir;
    const existing = this.#watchers.get(key);
    if (existing) {
      existing.users++;
      return;
    }
    const dir = path.dirname(path.join(target.shadow.refs, "heads", branch));
    try {
      const watcher = watch(dir, () => {
        this.sync(target).catch((err) =>
          this.log.warn({ err, worktree: target.record.worktreePath }, "branch sync failed"),
        );
      });
      watcher.on("error", () => watcher.close());
      this.#watchers.set(key, { watcher, users: 1 });
    } catch (err) {
      this.log.warn({ err, dir }, "cannot watch the sandbox's branch; it syncs on wm commands");
    }
  }

  unwatch(record: WorktreeRecord): void {
    const entry = this.#watchers.get(record.adminDir);
    if (!entry || --entry.users > 0) return;
    entry.watcher.close();
    this.#watchers.delete(record.adminDir);
  }

  close(): void {
    for (const { watcher } of this.#watchers.values()) watcher.close();
    this.#watchers.clear();
  }

  async #syncNow({ record, shadow, branch }: BranchSyncTarget): Promise<SyncOutcome> {
    if (!branch) return "unchanged";
    const tip = await shadowTip(shadow, branch);
    if (!tip) return "unchanged";
    const synced = (await readRegular(shadow.syncedFile))?.toString("latin1").trim();
    if (tip === synced) return "unchanged";
    const git = createSafeGit({
      gitDir: record.commonDir,
      env: this.env as NodeJS.ProcessEnv,
    });
    const ref = `refs/heads/${branch}`;
    const current = await git.run(["rev-parse", "--verify", "--quiet", ref]);
    const old = current.code === 0 ? current.stdout.trim() : "";
    if (old !== tip) {
      const fetched = await git.run(["fetch", "--quiet", "--no-write-fetch-head", shadow.dir, tip]);
      const commit = await git.run(["cat-file", "-e", `${tip}^{commit}`]);
      if (commit.code !== 0) {
        this.log.warn(
          { worktree: record.worktreePath, tip, stderr: fetched.stderr.trim() },
          "the sandbox's branch names no commit the repository can take; not carried over",
        );
        return "refused";
      }
      const moved = await git.run([
        "update-ref",
        "-m",
        "wm: commits from the sandbox",
        ref,
        tip,
        old || "0".repeat(tip.length),
      ]);
      if (moved.code !== 0) {
        this.log.warn(
          { worktree: record.worktreePath, stderr: moved.stderr.trim() },
          "could not move the branch to the sandbox's commit",
        );
        return "refused";
      }
    }
    await atomicWrite(shadow.syncedFile, `${tip}\n`);
    return "updated";
  }
}
