import { type BigIntStats, type FSWatcher, promises as fs, watch } from "node:fs";
import path from "node:path";
import { atomicWrite } from "../fs/atomic-write.ts";
import { createSafeGit } from "../git/safe-git.ts";
import type { WorktreeRecord } from "./git-layout.ts";
import { type GitShadow, readRegular, readRegularStat, writeIfChanged } from "./git-shadow.ts";

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
 * How long a tip file must have been left alone before its identity is trusted to stand for its
 * content. A file's ctime comes from a coarse clock (a few ms on Linux, a second or two on some
 * file systems), so a file rewritten within that time of being read can keep its ctime; past it,
 * any change gives a later ctime. The kernel sets ctime on every change: an agent cannot set it.
 */
const SETTLED_NS = 2_000_000_000n;

const realtimeNs = (): bigint => BigInt(Date.now()) * 1_000_000n;

/** The shadow's tip file of `branch`, as last found carried over. */
interface TipIdentity {
  file: string;
  dev: bigint;
  ino: bigint;
  size: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
}

const isSameFile = (known: TipIdentity, st: BigIntStats): boolean =>
  st.isFile() &&
  st.dev === known.dev &&
  st.ino === known.ino &&
  st.size === known.size &&
  st.mtimeNs === known.mtimeNs &&
  st.ctimeNs === known.ctimeNs;

interface ShadowTip {
  /** The object id the file holds. */
  tip: string;
  file: string;
  /** The file's `fstat`, taken before its content was read. */
  stat: BigIntStats;
}

/**
 * The agent's branch as its sandbox last wrote it, read without following a symlink anywhere
 * below the shadow's refs directory; undefined when it is not a plain object id.
 */
async function shadowTip(shadow: GitShadow, branch: string): Promise<ShadowTip | undefined> {
  let dir = shadow.refs;
  const parts = ["heads", ...branch.split("/")];
  for (const part of parts.slice(0, -1)) {
    dir = path.join(dir, part);
    const st = await fs.lstat(dir).catch(() => undefined);
    if (!st?.isDirectory()) return undefined;
  }
  const file = path.join(dir, parts.at(-1) ?? "");
  const read = await readRegularStat(file);
  const tip = read ? OBJECT_ID.exec(read.data.toString("latin1"))?.[1] : undefined;
  return read && tip ? { tip, file, stat: read.stat } : undefined;
}

/**
 * Carries the agent's own branch from its shadow into the repository: fetches the commit (git
 * checks every object it takes) and moves `refs/heads/<branch>` with `update-ref`, so host git
 * writes only its own refs and reflogs. Nothing else the agent changed in its refs leaves the
 * shadow. Runs one at a time per worktree.
 *
 * {@link sync} is called often (on every status a sandbox reports), and the branch has mostly not
 * moved: while the tip file is the very file last found carried over (same device, inode, size,
 * mtime and ctime, by one `lstat`), it answers "unchanged" at once, without reading, queueing or
 * running git. Anything else (no such file, another one, only a packed ref) takes the full path.
 */
export class BranchSync {
  readonly #queues = new Map<string, Promise<unknown>>();
  readonly #watchers = new Map<string, { watcher: FSWatcher; users: number }>();
  /** Worktree (admin dir) → its tip file as last found carried over, once it had settled. */
  readonly #carried = new Map<string, TipIdentity>();

  constructor(
    private readonly env: Env,
    private readonly log: { warn(obj: object, msg: string): void },
    /** Wall-clock time in ns, compared with file times. */
    private readonly now: () => bigint = realtimeNs,
  ) {}

  async sync(target: BranchSyncTarget): Promise<SyncOutcome> {
    if (!target.branch || (await this.#stillCarried(target))) return "unchanged";
    return this.exclusive(target, (syncNow) => syncNow());
  }

  /**
   * Whether the tip file is the one last found carried over. The `lstat` does not follow the file
   * if it is a symlink, and nothing is read. Should an agent replace a directory above it by a
   * symlink, the `lstat` finds another file or none (the full path runs, which reads nothing
   * through a link), or the remembered file itself, unchanged: nothing to carry over, which is what
   * the full path finds too.
   */
  async #stillCarried({ record, shadow, branch }: BranchSyncTarget): Promise<boolean> {
    const known = this.#carried.get(record.adminDir);
    if (!known || !branch || known.file !== path.join(shadow.refs, "heads", branch)) return false;
    const st = await fs.lstat(known.file, { bigint: true }).catch(() => undefined);
    return st !== undefined && isSameFile(known, st);
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
  async markSynced({ record, shadow, branch }: BranchSyncTarget): Promise<void> {
    this.#carried.delete(record.adminDir);
    const tip = branch ? (await shadowTip(shadow, branch))?.tip : undefined;
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
    const readAt = this.now();
    const read = await shadowTip(shadow, branch);
    if (!read) return "unchanged";
    const synced = (await readRegular(shadow.syncedFile))?.toString("latin1").trim();
    if (read.tip !== synced) {
      if (!(await this.#carryOver(record, branch, shadow.dir, read.tip))) return "refused";
      await atomicWrite(shadow.syncedFile, `${read.tip}\n`);
    }
    this.#remember(record.adminDir, read, readAt);
    return read.tip === synced ? "unchanged" : "updated";
  }

  /**
   * Remembers the tip file just found carried over, unless it changed too shortly before it was
   * read for a later change to be told from it (see {@link SETTLED_NS}).
   */
  #remember(key: string, { file, stat }: ShadowTip, readAt: bigint): void {
    if (stat.ctimeNs + SETTLED_NS > readAt) this.#carried.delete(key);
    else this.#carried.set(key, { file, ...pickIdentity(stat) });
  }

  /** Fetches `tip` from the shadow and moves the branch to it; false (and logged) when refused. */
  async #carryOver(
    record: WorktreeRecord,
    branch: string,
    shadowDir: string,
    tip: string,
  ): Promise<boolean> {
    const git = createSafeGit({
      gitDir: record.commonDir,
      env: this.env as NodeJS.ProcessEnv,
    });
    const ref = `refs/heads/${branch}`;
    const current = await git.run(["rev-parse", "--verify", "--quiet", ref]);
    const old = current.code === 0 ? current.stdout.trim() : "";
    if (old === tip) return true;
    const fetched = await git.run(["fetch", "--quiet", "--no-write-fetch-head", shadowDir, tip]);
    const commit = await git.run(["cat-file", "-e", `${tip}^{commit}`]);
    if (commit.code !== 0) {
      this.log.warn(
        { worktree: record.worktreePath, tip, stderr: fetched.stderr.trim() },
        "the sandbox's branch names no commit the repository can take; not carried over",
      );
      return false;
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
      return false;
    }
    return true;
  }
}

const pickIdentity = ({ dev, ino, size, mtimeNs, ctimeNs }: BigIntStats) => ({
  dev,
  ino,
  size,
  mtimeNs,
  ctimeNs,
});
