import type { SandboxSummary, WorktreeSummary } from "@wm/protocol";
import { displaySafe } from "@wm/protocol/text";

export type StatusIcons = Readonly<Record<string, string>>;

export interface DiffSize {
  base: string;
  files: number;
  added: number;
  removed: number;
}

/** One worktree as the dashboard shows it (also what `wm dashboard --once --json` prints). */
export interface DashboardRow {
  handle: string;
  branch: string;
  path: string;
  repo: string;
  status: string | null;
  /** The configured status icon, without tmux styles. */
  icon: string | null;
  sandbox: boolean;
  /** State of the worktree's sandbox from `sandbox.list`, null when it has none. */
  sandboxState: string | null;
  /** That sandbox's egress counts under `network.policy: deny`; null when not filtered. */
  egress: { allowed: number; denied: number } | null;
  lastActivity: string;
  diff: DiffSize | null;
  window: string | null;
  exists: boolean;
}

/** An icon as the terminal should show it: tmux `#[…]` styles dropped, `##` read as `#`. */
export function plainIcon(icon: string): string {
  return displaySafe(icon.replace(/#\[[^\]]*\]/g, "").replaceAll("##", "#")).trim();
}

/** The status icons of a `config.get` result, when it has well-formed ones. */
export function iconsOf(config: Record<string, unknown>): StatusIcons {
  const icons = config.status_icons;
  if (!icons || typeof icons !== "object") return {};
  return Object.fromEntries(
    Object.entries(icons as Record<string, unknown>).filter(
      (e): e is [string, string] => typeof e[1] === "string",
    ),
  );
}

const STATE_RANK: Readonly<Record<string, number>> = {
  running: 0,
  creating: 1,
  exited: 2,
  lost: 3,
};

/** The sandbox that best describes a worktree: a running one, else the newest. */
function sandboxFor(
  worktree: string,
  sandboxes: readonly SandboxSummary[],
): SandboxSummary | undefined {
  return sandboxes
    .filter((s) => s.worktree === worktree)
    .sort(
      (a, b) =>
        (STATE_RANK[a.state] ?? 9) - (STATE_RANK[b.state] ?? 9) ||
        b.createdAt.localeCompare(a.createdAt),
    )[0];
}

export function buildRows(
  worktrees: readonly WorktreeSummary[],
  sandboxes: readonly SandboxSummary[],
  iconsByRepo: ReadonlyMap<string, StatusIcons>,
): DashboardRow[] {
  return worktrees.map((w) => {
    const box = sandboxFor(w.path, sandboxes);
    const icon = w.status ? iconsByRepo.get(w.repo)?.[w.status] : undefined;
    return {
      handle: w.handle,
      branch: w.branch,
      path: w.path,
      repo: w.repo,
      status: w.status,
      icon: icon ? plainIcon(icon) || null : null,
      sandbox: w.sandbox,
      sandboxState: box
        ? box.state === "exited"
          ? `exited ${box.exitCode ?? "?"}`
          : box.state
        : null,
      egress: box?.egress ?? null,
      lastActivity: w.lastActivity,
      diff: w.diff ?? null,
      window: w.window?.name ?? null,
      exists: w.exists,
    };
  });
}

/** workmux's `dashboard.sort_mode` values. */
export const CONFIG_SORT_MODES = ["priority", "project", "recency", "natural"] as const;
/** The orders `s` cycles through: workmux's, then by name. */
export const SORT_MODES = [...CONFIG_SORT_MODES, "name"] as const;
export type SortMode = (typeof SORT_MODES)[number];

/** What each sort mode orders by, as the dashboard names it. */
export const SORT_LABELS: Readonly<Record<SortMode, string>> = {
  priority: "status",
  project: "project",
  recency: "activity",
  natural: "natural",
  name: "name",
};

const STATUS_RANK: Readonly<Record<string, number>> = { waiting: 0, done: 1, working: 2 };

/**
 * Rows in the given order: priority = waiting, done, working, then the rest; project =
 * repository, then priority; recency = latest activity first; natural = the daemon's order (the
 * order the worktrees were added); name = by name. Ties keep the daemon's order.
 */
export function sortRows(rows: readonly DashboardRow[], mode: SortMode): DashboardRow[] {
  const rank = (r: DashboardRow) => (r.status ? (STATUS_RANK[r.status] ?? 3) : 4);
  const byRank = (a: DashboardRow, b: DashboardRow) => rank(a) - rank(b);
  const compare: Record<SortMode, (a: DashboardRow, b: DashboardRow) => number> = {
    priority: byRank,
    project: (a, b) => a.repo.localeCompare(b.repo) || byRank(a, b),
    recency: (a, b) => b.lastActivity.localeCompare(a.lastActivity),
    natural: () => 0,
    name: (a, b) => a.handle.localeCompare(b.handle),
  };
  return [...rows].sort(compare[mode]);
}

/** Rows whose name or branch contains `filter`, ignoring case; all rows for an empty filter. */
export function filterRows(rows: readonly DashboardRow[], filter: string): DashboardRow[] {
  const needle = filter.trim().toLowerCase();
  if (!needle) return [...rows];
  return rows.filter(
    (r) => r.handle.toLowerCase().includes(needle) || r.branch.toLowerCase().includes(needle),
  );
}

/** The `dashboard.*` settings the live dashboard uses, read leniently from a `config.get` result. */
export interface DashboardSettings {
  commit: string;
  /** `dashboard.merge`: text `m` types into the agent; null when unset (`m` merges itself). */
  merge: string | null;
  sortMode: SortMode;
  /** Percent of the body the preview takes, 10–90. */
  previewSize: number;
}

export const DEFAULT_COMMIT = "Commit staged changes with a descriptive message";

export function dashboardSettingsOf(
  config: Record<string, unknown> | undefined,
): DashboardSettings {
  const d = (config?.dashboard ?? {}) as Record<string, unknown>;
  const mode = CONFIG_SORT_MODES.find((m) => m === d.sort_mode) ?? "priority";
  const size = typeof d.preview_size === "number" ? d.preview_size : 60;
  const commit = typeof d.commit === "string" && d.commit.trim() ? d.commit : DEFAULT_COMMIT;
  const merge = typeof d.merge === "string" && d.merge.trim() ? d.merge : null;
  return {
    commit,
    merge,
    sortMode: mode,
    previewSize: Math.min(90, Math.max(10, Math.round(size))),
  };
}
