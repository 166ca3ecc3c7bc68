import { existsSync } from "node:fs";
import { lstat, realpath } from "node:fs/promises";
import path from "node:path";
import type { WmConfig } from "../config/index.ts";
import { recordWorktree, type WorktreeRecord } from "../sandbox/git-layout.ts";
import type { DocumentLoss } from "../state/json-document.ts";
import { createTmux, type TmuxServer } from "../tmux/tmux-client.ts";
import { gitWorktrees } from "./git-info.ts";
import { handleFor, worktreeBaseDir, worktreePathFor } from "./names.ts";
import { type Salvaged, salvage } from "./rebuild-salvage.ts";
import { mainGit, mainWorktreeOf, type Repo } from "./repo.ts";
import type { WorktreeService } from "./service.ts";
import type { WorktreeEntry } from "./state-store.ts";

/** What wm still has of the worktrees it met. */
interface Known {
  /** `worktrees.json`: git facts read when wm first met each worktree, by realpath. */
  records: Map<string, WorktreeRecord>;
  /** Worktrees a sandbox record names. */
  sandboxWorktrees: Set<string>;
  salvaged: Salvaged;
  /** The windows wm marked as a worktree's, by worktree. */
  windows: Map<string, NonNullable<WorktreeEntry["tmux"]>>;
}

/**
 * Entries for the worktrees wm made, when `tracked-worktrees.json` is missing or was moved
 * aside: in every repository wm knows (from `worktrees.json`, the sandbox records and what
 * the damaged file still tells), each linked worktree that sits where `wm add` puts its
 * branch's worktree. Nothing git cannot tell is made up: no status, a tmux window only when
 * one marked as the worktree's is found, and `sandbox` never less isolated than the user had
 * (decision 0007). The repository's other linked worktrees are listed from git all the same
 * (adopt.ts); they get an entry again when wm next opens them.
 */
export async function rebuildEntries(
  svc: WorktreeService,
  loss: DocumentLoss,
): Promise<WorktreeEntry[]> {
  const { daemon } = svc;
  const salvaged = salvage(loss.kind === "moved-aside" ? loss.text : undefined);
  await daemon.sandboxes.registry.whenLoaded();
  const sandboxes = daemon.sandboxes.registry.all();
  const records = await daemon.worktreeRecords.all();
  const repos = await repositories([
    ...records.map((r) => r.commonDir),
    ...sandboxes.map((s) => s.git.commonDir),
    ...salvaged.commonDirs,
  ]);
  if (repos.length === 0) return [];
  const servers: TmuxServer[] = [
    ...salvaged.tmuxSockets.map((socketPath) => ({ socketPath })),
    { socketName: "default" },
  ];
  const known: Known = {
    records: new Map(records.map((r) => [r.worktreePath, r])),
    sandboxWorktrees: new Set(sandboxes.map((s) => s.worktree)),
    salvaged,
    windows: await markedWindows(servers, daemon.env),
  };
  const entries: WorktreeEntry[] = [];
  for (const repo of repos) {
    try {
      entries.push(...(await rebuildRepo(svc, repo, known)));
    } catch (err) {
      daemon.log.warn({ err, repo: repo.root }, "could not rebuild the worktrees of a repository");
    }
  }
  daemon.log[entries.length > 0 ? "warn" : "info"](
    { repos: repos.map((r) => r.root), worktrees: entries.map((e) => e.path) },
    "rebuilt the tracked worktrees from git",
  );
  return entries;
}

/**
 * Records in `worktrees.json` the tracked worktrees it lacks (made before `wm add` recorded
 * them there), so that their repositories stay known should the state file be lost.
 */
export async function rememberTracked(svc: WorktreeService): Promise<void> {
  const records = svc.daemon.worktreeRecords;
  const recorded = new Set((await records.all()).map((r) => r.worktreePath));
  for (const e of await svc.state.all()) {
    if (recorded.has(e.path)) continue;
    const { path: worktreePath, commonDir, adminDir, branch } = e;
    await records.remember({ worktreePath, commonDir, adminDir, branch });
  }
}

/** The repositories with a main worktree among `commonDirs`, each once. */
export async function repositories(commonDirs: readonly string[]): Promise<Repo[]> {
  const repos = new Map<string, Repo>();
  for (const dir of commonDirs) {
    const commonDir = await realpath(dir).catch(() => undefined);
    const root = commonDir ? mainWorktreeOf(commonDir) : null;
    if (!commonDir || !root || repos.has(commonDir)) continue;
    const objects = await lstat(path.join(commonDir, "objects")).catch(() => undefined);
    if (objects?.isDirectory()) repos.set(commonDir, { root, commonDir });
  }
  return [...repos.values()];
}

async function rebuildRepo(
  svc: WorktreeService,
  repo: Repo,
  known: Known,
): Promise<WorktreeEntry[]> {
  const { env, homedir } = svc.daemon;
  const config = await svc.config(repo);
  const base = await realpath(worktreeBaseDir(config.worktree_dir, repo.root, homedir)).catch(
    () => undefined,
  );
  if (!base) return [];
  const entries: WorktreeEntry[] = [];
  for (const { path: listed, branch } of await gitWorktrees(mainGit(repo, env))) {
    if (!branch) continue;
    const made = await madeByWm(listed, branch, { repo, base, config, known }, env);
    if (!made) continue;
    const { handle, record } = made;
    entries.push(
      await entryFromGit(svc, {
        repo,
        config,
        record,
        handle,
        branch,
        sandboxed: [known.sandboxWorktrees, known.salvaged.sandboxed],
        tmux: known.windows.get(record.worktreePath) ?? null,
      }),
    );
  }
  return entries;
}

/**
 * The entry of a linked worktree from its git facts, as far as git tells: no status, created
 * when git made its admin dir, and `sandbox` on when the configuration enables sandboxes or one
 * ever ran there (a path in `sandboxed`, or the worktree's git shadow).
 */
export async function entryFromGit(
  svc: WorktreeService,
  from: {
    repo: Repo;
    config: WmConfig;
    record: WorktreeRecord;
    handle: string;
    branch: string;
    sandboxed: readonly ReadonlySet<string>[];
    tmux: WorktreeEntry["tmux"];
  },
): Promise<WorktreeEntry> {
  const { repo, config, record } = from;
  const createdAt = await lstat(path.join(record.adminDir, "gitdir")).then(
    (st) => st.mtime.toISOString(),
    () => new Date().toISOString(),
  );
  return {
    handle: from.handle,
    branch: from.branch,
    path: record.worktreePath,
    repo: repo.root,
    commonDir: record.commonDir,
    adminDir: record.adminDir,
    mode: config.mode,
    sandbox: config.sandbox.enabled || ranSandboxed(svc, record, from.sandboxed),
    tmux: from.tmux,
    status: null,
    statusAt: null,
    lastActivity: createdAt,
    createdAt,
  };
}

/**
 * The worktree's git facts, when it is the one `wm add` would have made for `branch`: those
 * recorded when wm met it, else read now with recordWorktree's checks both ways.
 */
async function madeByWm(
  listed: string,
  branch: string,
  where: { repo: Repo; base: string; config: WmConfig; known: Known },
  env: Readonly<Record<string, string | undefined>>,
): Promise<{ handle: string; record: WorktreeRecord } | undefined> {
  const { repo, base, config, known } = where;
  try {
    const handle = handleFor(branch, config.worktree_naming, config.worktree_prefix);
    const real = await realpath(listed);
    if (real !== worktreePathFor(base, handle)) return undefined;
    const recorded = known.records.get(real);
    const record =
      recorded?.commonDir === repo.commonDir && recorded.branch === branch
        ? recorded
        : await recordWorktree(real, { env: env as NodeJS.ProcessEnv });
    if (record.commonDir !== repo.commonDir || record.branch !== branch) return undefined;
    return { handle, record };
  } catch {
    return undefined;
  }
}

/** A sandbox record (or the damaged file) names it, or the worktree's git shadow is there. */
function ranSandboxed(
  svc: WorktreeService,
  record: WorktreeRecord,
  sandboxed: readonly ReadonlySet<string>[],
): boolean {
  return (
    sandboxed.some((paths) => paths.has(record.worktreePath)) ||
    existsSync(svc.daemon.sandboxes.gitShadows.target(record).shadow.dir)
  );
}

const WINDOW_FORMAT = "#{socket_path}\t#{window_id}\t#{session_id}\t#{@wm_title}\t#{@wm_worktree}";

/** Windows wm marked as a worktree's on `servers`, by worktree (the first one found wins). */
async function markedWindows(
  servers: readonly TmuxServer[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<Known["windows"]> {
  const windows: Known["windows"] = new Map();
  for (const server of servers) {
    const out = await createTmux(server, { env }).tryRun([
      "list-windows",
      "-a",
      "-F",
      WINDOW_FORMAT,
    ]);
    for (const line of out?.split("\n") ?? []) {
      const [socketPath, window, session, title, ...owner] = line.split("\t");
      const worktree = owner.join("\t");
      if (socketPath && window && session && worktree && !windows.has(worktree))
        windows.set(worktree, { socketPath, session, window, title: title ?? "" });
    }
  }
  return windows;
}
