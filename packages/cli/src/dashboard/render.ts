import { displaySafe } from "@wm/protocol/text";
import type { DashboardRow, DiffSize } from "./model.ts";
import { displayWidth, fit, truncate } from "./text-width.ts";

export interface DashboardView {
  rows: readonly DashboardRow[];
  /** Index into `rows`; -1 marks none. */
  selected: number;
  /** Milliseconds since the epoch, for relative times. */
  now: number;
  help: boolean;
  /** A question waiting for y/n, shown on the bottom line. */
  prompt: string | null;
  /** The outcome of the last action, shown on the bottom line. */
  message: string | null;
  /** The sort order's name, shown on the top line. */
  sort?: string;
  /** The applied name filter, shown on the top line. */
  filter?: string;
  /** A pane below the list: the selected agent's screen or its diff; `size` is percent of the body. */
  preview?: { title: string; lines: readonly string[]; size: number } | null;
}

export interface RenderOptions {
  /** Reverse video for the selected row, bold headings. */
  ansi?: boolean;
  /** The bottom line: prompt, message or key hints. */
  footer?: boolean;
}

const HEAD = ["STATUS", "NAME", "BRANCH", "SANDBOX", "ACTIVITY", "DIFF"] as const;
const CAPS = [16, 28, 32, 12, 10] as const;
const MARKER = "> ";
const HINTS =
  "? help  q quit  enter open  c commit  m merge  x close  i input  d diff  / filter  s sort  1-9 jump";

export const HELP_LINES: readonly string[] = [
  "Keys",
  "",
  "  up, k       select the previous worktree",
  "  down, j     select the next worktree",
  "  enter       go to the agent's tmux window (opening it again if it was closed)",
  "  1-9         select the Nth worktree",
  "  c           ask the agent to commit: types dashboard.commit (asks y/n first)",
  "  m           merge the branch into the main branch (asks y/n first)",
  "  x, X        close the agent's window, stopping the agent (asks y/n first)",
  "  i           type into the agent: Enter sends the line, esc leaves",
  "  d           the branch's diff size instead of the agent's screen, and back",
  "  /           filter by name: type, enter applies, esc clears",
  "  s           sort by status, project, activity, as added, or by name (cycles)",
  "  ?           show or hide this help",
  "  q, esc      quit",
];

export const EMPTY_TEXT = "no worktrees yet; `wm add BRANCH` starts an agent";

export function relativeTime(iso: string, now: number): string {
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return "-";
  const s = Math.max(0, Math.floor((now - then) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86_400)}d ago`;
}

export function diffText(diff: DiffSize | null): string {
  if (!diff) return "-";
  return `+${diff.added} -${diff.removed}, ${diff.files} ${diff.files === 1 ? "file" : "files"}`;
}

function sandboxText(row: DashboardRow): string {
  if (row.sandboxState) return row.sandboxState;
  return row.sandbox ? "none" : "host";
}

function statusText(row: DashboardRow): string {
  if (!row.status) return "-";
  return row.icon ? `${row.icon} ${row.status}` : row.status;
}

function cells(row: DashboardRow, qualify: boolean, now: number): string[] {
  const base = row.repo.split("/").filter(Boolean).at(-1) ?? row.repo;
  const name = `${qualify ? `${base}/` : ""}${row.handle}${row.exists ? "" : " (gone)"}`;
  return [
    statusText(row),
    name,
    row.branch,
    sandboxText(row),
    relativeTime(row.lastActivity, now),
    diffText(row.diff),
  ].map((cell) => displaySafe(cell));
}

function table(rows: readonly string[][]): string[] {
  const widths = CAPS.map((cap, i) =>
    Math.min(cap, Math.max(HEAD[i]?.length ?? 0, ...rows.map((r) => displayWidth(r[i] ?? "")))),
  );
  return rows.map((r) =>
    r.map((c, i) => (i < widths.length ? fit(c, widths[i] as number) : c)).join("  "),
  );
}

function summaryLine(rows: readonly DashboardRow[], sort?: string, filter?: string): string {
  const counts = new Map<string, number>();
  for (const r of rows) if (r.status) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
  const parts = [...counts].map(([s, n]) => `${n} ${s}`);
  const total = `${rows.length} ${rows.length === 1 ? "worktree" : "worktrees"}`;
  const extra = [sort ? `sort: ${sort}` : "", filter ? `filter: ${filter}` : ""].filter(Boolean);
  return displaySafe(["wm dashboard", total, ...parts, ...extra].join("  ·  "));
}

/** One frame: at most `height` lines, none wider than `width` columns. */
export function renderFrame(
  view: DashboardView,
  width: number,
  height: number,
  opts: RenderOptions = {},
): string[] {
  const w = Math.max(0, Math.floor(width));
  const h = Math.max(0, Math.floor(height));
  const bold = (s: string) => (opts.ansi && s ? `\x1b[1m${s}\x1b[0m` : s);
  const footerLines = opts.footer ? 1 : 0;
  const bodyHeight = Math.max(0, h - 2 - footerLines);
  const qualify = new Set(view.rows.map((r) => r.repo)).size > 1;
  const [head = "", ...body] = table([
    [...HEAD],
    ...view.rows.map((r) => cells(r, qualify, view.now)),
  ]);
  const lines = [
    bold(truncate(summaryLine(view.rows, view.sort, view.filter), w)),
    bold(truncate(`  ${head}`, w).trimEnd()),
  ];

  if (view.help) {
    lines.push(...HELP_LINES.slice(0, bodyHeight).map((l) => truncate(l, w)));
  } else if (view.rows.length === 0) {
    if (bodyHeight > 0) lines.push(truncate(`  ${view.filter ? "no match" : EMPTY_TEXT}`, w));
  } else {
    const preview = view.preview;
    const previewHeight =
      preview && bodyHeight > 2
        ? Math.min(bodyHeight - 1, Math.max(2, Math.floor((bodyHeight * preview.size) / 100)))
        : 0;
    const listHeight = bodyHeight - previewHeight;
    const selected = view.selected < 0 ? -1 : Math.min(view.selected, view.rows.length - 1);
    const offset = Math.max(0, selected - listHeight + 1);
    const shown = body.slice(offset, offset + listHeight);
    shown.forEach((text, i) => {
      const isSelected = offset + i === selected;
      const line = truncate(`${isSelected ? MARKER : "  "}${text}`, w);
      lines.push(isSelected && opts.ansi ? `\x1b[7m${fit(line, w)}\x1b[0m` : line.trimEnd());
    });
    if (preview && previewHeight > 0) {
      for (let i = shown.length; i < listHeight; i += 1) lines.push("");
      lines.push(bold(truncate(`── ${displaySafe(preview.title)} ──`, w)));
      const tail = previewHeight > 1 ? preview.lines.slice(-(previewHeight - 1)) : [];
      for (const l of tail) lines.push(truncate(displaySafe(l), w).trimEnd());
    }
  }

  const out = lines.slice(0, Math.max(0, h - footerLines));
  if (footerLines > 0 && h > 0) {
    while (out.length < h - 1) out.push("");
    const footer = view.prompt ?? view.message ?? HINTS;
    const shown = truncate(displaySafe(footer), w);
    out.push(view.prompt ? bold(shown) : shown);
  }
  return out;
}
