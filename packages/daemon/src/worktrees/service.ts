import { existsSync } from "node:fs";
import { realpath } from "node:fs/promises";
import path from "node:path";
import { RpcError, type WorktreeSummary } from "@wm/protocol";
import {
  ConfigError,
  type LoadedConfig,
  loadConfig,
  loadGlobalConfig,
  type WmConfig,
} from "../config/index.ts";
import { enclosingLinkedWorktree } from "../config/locate.ts";
import type { DaemonContext } from "../context.ts";
import { createSafeGit, type SafeGit } from "../git/safe-git.ts";
import type { BranchSyncTarget } from "../sandbox/branch-sync.ts";
import { assertNoPlantedLinks, PlantedLinkError } from "../sandbox/planted-links.ts";
import { assertSandboxHonoured, refuseUnknownSandboxKeys } from "../sandbox/settings-check.ts";
import { tmuxAt } from "../tmux/client-target.ts";
import { findWindow, killWindow, type LiveWindow } from "../tmux/windows.ts";
import { type Untracked, untrackedWorktrees } from "./adopt.ts";
import { DiffStats } from "./diff-stats.ts";
import { withExclusiveLock } from "./lock.ts";
import { rebuildEntries, rememberTracked, repositories } from "./rebuild.ts";
import { isInside, type KnownWorktree, knownWorktrees, type Repo, repoOf } from "./repo.ts";
import { type WorktreeEntry, WorktreeState } from "./state-store.ts";
import { mirrorSandboxStatus } from "./status.ts";

/** The daemon's worktree state and the lookups every worktree handler shares. One per daemon. */
export class WorktreeService {
  readonly state: WorktreeState;
  readonly diffs: DiffStats;

  constructor(readonly daemon: DaemonContext) {
    this.state = new WorktreeState(daemon.paths.stateDir, daemon.log, (loss) =>
      rebuildEntries(this, loss),
    );
    this.diffs = new DiffStats(this);
  }

  /**
   * Global file + the main worktree's project file: hooks and pane commands come from nowhere
   * else. With `at`, the project file is the nearest one walking up from `at.cwd` inside
   * `at.worktree` (see configAt); inside a linked worktree only the keys such a file may set are
   * read from it, the rest from the main worktree's file at the same place.
   */
  async loadConfig(repo: Repo, at?: { cwd: string; worktree: string }): Promise<LoadedConfig> {
    const { env, homedir } = this.daemon;
    try {
      return await loadConfig({
        cwd: at?.cwd ?? repo.root,
        repoRoot: at?.worktree ?? repo.root,
        mainWorktreeRoot: repo.root,
        env,
        homedir,
      });
    } catch (err) {
      if (err instanceof ConfigError)
        throw new RpcError("ConfigInvalid", err.message, { diagnostics: err.diagnostics });
      throw err;
    }
  }

  /**
   * Refuses to start an agent under a config wm cannot honour: never with an unknown key under
   * `sandbox:`, and, when the agent is sandboxed, never with a sandbox other than the one asked
   * for (sandbox/settings-check.ts). Runs before any worktree, window or container is made.
   */
  async assertAgentStartable(loaded: LoadedConfig, sandboxed: boolean): Promise<void> {
    refuseUnknownSandboxKeys(loaded);
    if (sandboxed) await assertSandboxHonoured(loaded, (r) => this.daemon.backends.engine(r));
  }

  async config(repo: Repo): Promise<WmConfig> {
    return (await this.loadConfig(repo)).config;
  }

  /**
   * The configuration `wm config` shows at `cwd` in `repo`: the nearest project file walking up
   * from `cwd` — a monorepo's nested `pkg/api/.workmux.yaml` — and `subdir`, that file's
   * directory relative to the worktree it is in (`pkg/api`; "" for a file at the root, or none).
   * Outside the repository's worktrees, the main worktree's file.
   */
  async configAt(repo: Repo, cwd: string): Promise<{ loaded: LoadedConfig; subdir: string }> {
    const real = await realpath(cwd).catch(() => path.resolve(cwd));
    const worktree = await this.#worktreeOf(real, repo);
    if (!worktree) return { loaded: await this.loadConfig(repo), subdir: "" };
    const loaded = await this.loadConfig(repo, { cwd: real, worktree });
    const dir = loaded.files.project ? path.dirname(loaded.files.project) : undefined;
    const base = [worktree, repo.root]
      .filter((root) => dir !== undefined && isInside(dir, root))
      .sort((a, b) => b.length - a.length)[0];
    return { loaded, subdir: dir && base ? path.relative(base, dir) : "" };
  }

  /**
   * The configuration an entry's window opens with: the nested project file `wm add` used (the
   * main worktree's copy at `entry.subdir`), else the main worktree's.
   */
  async entryConfig(entry: WorktreeEntry): Promise<LoadedConfig> {
    const repo = { root: entry.repo, commonDir: entry.commonDir };
    if (!entry.subdir) return this.loadConfig(repo);
    return this.loadConfig(repo, { cwd: path.join(repo.root, entry.subdir), worktree: repo.root });
  }

  /** The worktree of `repo` that `real` is in, found as repoOf finds the repository. */
  async #worktreeOf(real: string, repo: Repo): Promise<string | undefined> {
    const record = (await this.known())
      .filter((k) => isInside(real, k.path))
      .sort((a, b) => b.path.length - a.path.length)[0];
    if (record) return record.repo === repo.root ? record.path : undefined;
    const linked = await enclosingLinkedWorktree(real);
    if (linked) return linked.commonDir === repo.commonDir ? linked.dir : undefined;
    return isInside(real, repo.root) ? repo.root : undefined;
  }

  /** The global file alone, for a window outside any repository. */
  async globalConfig(): Promise<WmConfig> {
    const { env, homedir } = this.daemon;
    return (
      await loadGlobalConfig({ env, homedir }).catch(() =>
        loadGlobalConfig({ env: {}, homedir: "/nonexistent" }),
      )
    ).config;
  }

  async repoOf(cwd: string): Promise<Repo | undefined> {
    return repoOf(cwd, await this.known());
  }

  /** Every linked worktree wm has a record of: its own entries and those sandboxes ran in. */
  async known(): Promise<KnownWorktree[]> {
    return knownWorktrees(this.daemon, await this.state.all());
  }

  /**
   * The worktrees of `repo` (of every repository wm knows when absent): git is the source of
   * truth. Every linked worktree `git worktree list` shows is one — wm's entries add the window,
   * status and sandbox choice; one wm has no entry for (made with plain git, or by workmux) gets
   * an entry built from git (adopt.ts), stored once wm opens a window for it.
   */
  async entries(repo?: Repo): Promise<WorktreeEntry[]> {
    return (await this.#worktrees(repo)).entries;
  }

  async #worktrees(repo?: Repo): Promise<Untracked> {
    const tracked = await this.state.all();
    const found: Untracked = {
      entries: repo ? tracked.filter((e) => e.repo === repo.root) : [...tracked],
      detached: [],
    };
    const paths = new Set(tracked.map((e) => e.path));
    for (const r of repo ? [repo] : await this.#repositories(tracked)) {
      try {
        const untracked = await untrackedWorktrees(this, r, paths);
        found.entries.push(...untracked.entries);
        found.detached.push(...untracked.detached);
      } catch (err) {
        this.daemon.log.warn({ err, repo: r.root }, "could not list a repository's worktrees");
      }
    }
    return found;
  }

  /** The repositories wm knows: of its entries, of the worktrees it met, of sandboxes. */
  async #repositories(tracked: readonly WorktreeEntry[]): Promise<Repo[]> {
    const { worktreeRecords, sandboxes } = this.daemon;
    return repositories([
      ...tracked.map((e) => e.commonDir),
      ...(await worktreeRecords.all()).map((r) => r.commonDir),
      ...sandboxes.registry.all().map((s) => s.git.commonDir),
    ]);
  }

  /**
   * Stores an entry built from git (a worktree wm did not make) the first time wm acts on it,
   * with the git facts it was built from, which wm keeps from then on: it is then tracked like
   * a worktree wm made. An entry that is stored already is returned as stored.
   */
  async adopt(entry: WorktreeEntry): Promise<WorktreeEntry> {
    const known = await this.state.get(entry.path);
    if (known) return known;
    const stored = await this.state.adopt(entry);
    if (stored !== entry) return stored;
    const records = this.daemon.worktreeRecords;
    if (!(await records.all()).some((r) => r.worktreePath === entry.path)) {
      const { path: worktreePath, commonDir, adminDir, branch } = entry;
      await records.remember({ worktreePath, commonDir, adminDir, branch });
    }
    this.daemon.log.info({ worktree: entry.path, branch: entry.branch }, "adopted a worktree");
    return stored;
  }

  /** The recorded worktree containing `p`, if any. */
  async entryAt(p: string): Promise<WorktreeEntry | undefined> {
    const real = await realpath(p).catch(() => path.resolve(p));
    return (await this.state.all())
      .filter((e) => isInside(real, e.path))
      .sort((a, b) => b.path.length - a.path.length)[0];
  }

  /** The entry's branch-sync target: its git shadow, if a sandbox ever ran in it. */
  gitTarget(entry: WorktreeEntry): BranchSyncTarget {
    return this.daemon.sandboxes.gitShadows.target({
      worktreePath: entry.path,
      commonDir: entry.commonDir,
      adminDir: entry.adminDir,
      branch: entry.branch,
    });
  }

  /**
   * safe-git in a linked worktree wm recorded: objects its sandbox made but has not committed
   * are read from the git shadow, and no git runs while a symlink sits in the admin dir.
   */
  worktreeGit(entry: WorktreeEntry): SafeGit {
    const { shadow } = this.gitTarget(entry);
    return createSafeGit({
      gitDir: entry.adminDir,
      commonDir: entry.commonDir,
      workTree: entry.path,
      env: this.daemon.env as NodeJS.ProcessEnv,
      alternateObjects: existsSync(shadow.objects) ? shadow.objects : undefined,
      preflight: () => guardAdminDir(entry.adminDir),
    });
  }

  /** Carries the commits a sandbox made on the entry's branch into the repository. */
  async syncBranch(entry: WorktreeEntry): Promise<void> {
    await this.daemon.sandboxes.gitShadows.sync(this.gitTarget(entry));
  }

  /**
   * A worktree by handle, branch or path, among the repository at `cwd` (or all when outside one);
   * without a name, the worktree `cwd` lies in.
   */
  async find(cwd: string, name: string | undefined): Promise<WorktreeEntry> {
    const entry = await this.#find(cwd, name);
    await this.syncBranch(entry);
    return entry;
  }

  async #find(cwd: string, name: string | undefined): Promise<WorktreeEntry> {
    const all = await this.state.all();
    const repo = await repoOf(cwd, await knownWorktrees(this.daemon, all));
    const { entries: pool, detached } = await this.#worktrees(repo);
    if (name === undefined) return here(cwd, repo, [...pool, ...all]);
    let matches = pool.filter((e) => e.handle === name || e.branch === name);
    if (matches.length === 0 && (name.includes("/") || name.startsWith("."))) {
      const real = await realpath(path.resolve(cwd, name)).catch(() => path.resolve(cwd, name));
      const byPath = [...pool, ...all]
        .filter((e) => isInside(real, e.path))
        .sort((a, b) => b.path.length - a.path.length)[0];
      matches = byPath ? [byPath] : [];
    }
    if (matches.length === 1) return matches[0] as WorktreeEntry;
    if (matches.length > 1) {
      throw new RpcError(
        "Conflict",
        `"${name}" matches ${matches.length} worktrees (${matches.map((m) => m.path).join(", ")}); run wm from inside the repository you mean`,
      );
    }
    const headless = detached.find((d) => path.basename(d) === name);
    if (headless) {
      throw new RpcError(
        "NotFound",
        `the worktree ${headless} has no branch checked out (detached HEAD), so wm does not manage it; \`git -C ${headless} switch -c BRANCH\` gives it one`,
        { name, path: headless },
      );
    }
    const where = repo ? ` in ${repo.root}` : "";
    throw new RpcError("NotFound", `no worktree named "${name}"${where}; \`wm list\` shows them`, {
      name,
    });
  }

  /** Run `fn` while no other wm command changes this worktree (merge, remove). */
  withEntryLock<T>(entry: WorktreeEntry, fn: () => Promise<T>): Promise<T> {
    return withExclusiveLock(
      this.daemon.paths.stateDir,
      [entry.commonDir, entry.path],
      `worktree "${entry.handle}" is being changed by another wm command`,
      fn,
    );
  }

  /** The entry's window if it is still there and still wm's. */
  async liveWindow(entry: WorktreeEntry): Promise<LiveWindow | undefined> {
    if (!entry.tmux) return undefined;
    return findWindow(
      tmuxAt(entry.tmux.socketPath, this.daemon.env),
      entry.tmux.window,
      entry.path,
    );
  }

  /** Kills the entry's window (its session in session mode); false when there was none. */
  async killWindow(entry: WorktreeEntry): Promise<boolean> {
    const live = await this.liveWindow(entry);
    if (!live || !entry.tmux) return false;
    await killWindow(tmuxAt(entry.tmux.socketPath, this.daemon.env), entry.mode, live);
    return true;
  }

  async summary(entry: WorktreeEntry): Promise<WorktreeSummary> {
    const live = await this.liveWindow(entry);
    return {
      handle: entry.handle,
      branch: entry.branch,
      path: entry.path,
      repo: entry.repo,
      window:
        live && entry.tmux
          ? {
              id: live.window,
              name: live.name,
              session: live.session,
              server: entry.tmux.socketPath,
            }
          : null,
      status: entry.status,
      statusAt: entry.statusAt,
      lastActivity: entry.lastActivity,
      createdAt: entry.createdAt,
      sandbox: entry.sandbox,
      exists: existsSync(entry.path),
      diff: await this.diffs.get(entry),
    };
  }

  emit(
    topic: "status" | "worktree",
    type: string,
    entry: WorktreeEntry,
    extra: Record<string, unknown> = {},
  ) {
    this.daemon.events.emit(topic, type, {
      worktree: entry.path,
      handle: entry.handle,
      branch: entry.branch,
      repo: entry.repo,
      ...extra,
    });
  }
}

/** The worktree among `pool` that `cwd` lies in; an error naming where `cwd` is otherwise. */
async function here(
  cwd: string,
  repo: Repo | undefined,
  pool: readonly WorktreeEntry[],
): Promise<WorktreeEntry> {
  const real = await realpath(cwd).catch(() => path.resolve(cwd));
  const inside = pool
    .filter((e) => e.path !== e.repo && isInside(real, e.path))
    .sort((a, b) => b.path.length - a.path.length)[0];
  if (inside) return inside;
  const where =
    repo && isInside(real, repo.root)
      ? `${repo.root} is the main worktree, not a worktree wm manages`
      : `${cwd} is not inside a worktree wm manages`;
  throw new RpcError(
    "InvalidParams",
    `${where}; name the worktree (\`wm list\` shows them), or run this from inside it`,
    { reason: "no-current-worktree", cwd },
  );
}

/** `WM_CONFIG_DIR` for hooks: the directory of the project file, else the main worktree. */
export function configDirOf(loaded: LoadedConfig, repoRoot: string): string {
  return loaded.files.project ? path.dirname(loaded.files.project) : repoRoot;
}

/**
 * The daemon's worktree service, built once (daemon.ts): it mirrors sandboxed agents' status
 * into their tmux windows from the start and records the tracked worktrees' repositories.
 */
export function startWorktreeService(daemon: DaemonContext): WorktreeService {
  const service = new WorktreeService(daemon);
  mirrorSandboxStatus(service);
  rememberTracked(service).catch((err) =>
    daemon.log.warn({ err }, "could not record the tracked worktrees' repositories"),
  );
  return service;
}

async function guardAdminDir(adminDir: string): Promise<void> {
  try {
    await assertNoPlantedLinks(adminDir);
  } catch (err) {
    if (err instanceof PlantedLinkError) throw new RpcError("Refused", err.message);
    throw err;
  }
}
