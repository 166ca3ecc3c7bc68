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
import type { DaemonContext } from "../context.ts";
import { createSafeGit, type SafeGit } from "../git/safe-git.ts";
import type { BranchSyncTarget } from "../sandbox/branch-sync.ts";
import { assertNoPlantedLinks, PlantedLinkError } from "../sandbox/planted-links.ts";
import { tmuxAt } from "../tmux/client-target.ts";
import { findWindow, killWindow, type LiveWindow } from "../tmux/windows.ts";
import { DiffStats } from "./diff-stats.ts";
import { withExclusiveLock } from "./lock.ts";
import { rebuildEntries, rememberTracked } from "./rebuild.ts";
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

  /** Global file + the main worktree's project file: hooks and pane commands come from nowhere else. */
  async loadConfig(repo: Repo): Promise<LoadedConfig> {
    const { env, homedir } = this.daemon;
    try {
      return await loadConfig({
        cwd: repo.root,
        repoRoot: repo.root,
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

  async config(repo: Repo): Promise<WmConfig> {
    return (await this.loadConfig(repo)).config;
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

  /** A worktree by handle, branch or path, among the repository at `cwd` (or all when outside one). */
  async find(cwd: string, name: string): Promise<WorktreeEntry> {
    const entry = await this.#find(cwd, name);
    await this.syncBranch(entry);
    return entry;
  }

  async #find(cwd: string, name: string): Promise<WorktreeEntry> {
    const all = await this.state.all();
    const repo = await repoOf(cwd, await knownWorktrees(this.daemon, all));
    const pool = repo ? all.filter((e) => e.repo === repo.root) : all;
    let matches = pool.filter((e) => e.handle === name || e.branch === name);
    if (matches.length === 0 && (name.includes("/") || name.startsWith("."))) {
      const byPath = await this.entryAt(path.resolve(cwd, name));
      matches = byPath ? [byPath] : [];
    }
    if (matches.length === 1) return matches[0] as WorktreeEntry;
    if (matches.length > 1) {
      throw new RpcError(
        "Conflict",
        `"${name}" matches ${matches.length} worktrees (${matches.map((m) => m.path).join(", ")}); run wm from inside the repository you mean`,
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

/** `WM_CONFIG_DIR` for hooks: the directory of the project file, else the main worktree. */
export function configDirOf(loaded: LoadedConfig, repoRoot: string): string {
  return loaded.files.project ? path.dirname(loaded.files.project) : repoRoot;
}

const services = new WeakMap<DaemonContext, WorktreeService>();

export function worktreeService(daemon: DaemonContext): WorktreeService {
  let service = services.get(daemon);
  if (!service) {
    service = new WorktreeService(daemon);
    services.set(daemon, service);
    mirrorSandboxStatus(service);
    rememberTracked(service).catch((err) =>
      daemon.log.warn({ err }, "could not record the tracked worktrees' repositories"),
    );
  }
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
