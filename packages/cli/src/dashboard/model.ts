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
      lastActivity: w.lastActivity,
      diff: w.diff ?? null,
      window: w.window?.name ?? null,
      exists: w.exists,
    };
  });
}
