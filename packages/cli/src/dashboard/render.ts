import { displaySafe } from "@wm/protocol/text";
import { deniedText } from "../egress-text.ts";
import type { DashboardRow, DiffSize } from "./model.ts";
import { displayWidth, fit, truncate } from "./text-width.ts";
import { type Painter, type Palette, type PaletteField, painterOf } from "./theme.ts";

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
  /**
   * A pane below the list: the selected agent's screen (its last lines), or a patch (from line
   * `offset`, coloured as a diff); `size` is percent of the body.
   */
  preview?: {
    title: string;
    lines: readonly string[];
    size: number;
    patch?: { offset: number };
  } | null;
  /** The diff view: changed files listed in place of the worktrees. */
  files?: { title: string; lines: readonly DiffFileLine[]; selected: number } | null;
}

/** One changed file as the diff view lists it. */
export interface DiffFileLine {
  status: "added" | "modified" | "deleted" | "renamed";
  path: string;
  oldPath: string | null;
  additions: number | null;
  deletions: number | null;
  committed: boolean;
  uncommitted: boolean;
}

export interface RenderOptions {
  /** Reverse video for the selected row, bold headings. */
  ansi?: boolean;
  /** The bottom line: prompt, message or key hints. */
  footer?: boolean;
  /** Colours (with `ansi`); null or absent: bold and reverse video only. */
  palette?: Palette | null;
}

const HEAD = ["STATUS", "NAME", "BRANCH", "SANDBOX", "ACTIVITY", "DIFF"] as const;
const CAPS = [16, 28, 32, 20, 10] as const;
const MARKER = "> ";
const DIFF_HINTS = "j/k select a file  PgUp/PgDn scroll its patch  d or esc back  q quit";
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
  "  m           merge the branch into the main branch (asks y/n first); with",
  "              dashboard.merge set, types that into the agent instead",
  "  x, X        close the agent's window, stopping the agent (asks y/n first)",
  "  i           input mode: each key goes to the agent as typed; esc leaves",
  "  d           the worktree's changed files and each one's patch (j/k select,",
  "              PageUp/PageDown scroll), d or esc goes back",
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
  if (!row.sandboxState) return row.sandbox ? "none" : "host";
  const denied = row.egress?.denied ?? 0;
  return denied > 0 ? `${row.sandboxState}, ${deniedText(denied)}` : row.sandboxState;
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

function columns(rows: readonly string[][]): { lines: string[]; widths: number[] } {
  const widths = CAPS.map((cap, i) =>
    Math.min(cap, Math.max(HEAD[i]?.length ?? 0, ...rows.map((r) => displayWidth(r[i] ?? "")))),
  );
  const lines = rows.map((r) =>
    r.map((c, i) => (i < widths.length ? fit(c, widths[i] as number) : c)).join("  "),
  );
  return { lines, widths };
}

function summaryLine(rows: readonly DashboardRow[], sort?: string, filter?: string): string {
  const counts = new Map<string, number>();
  for (const r of rows) if (r.status) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
  const parts = [...counts].map(([s, n]) => `${n} ${s}`);
  const total = `${rows.length} ${rows.length === 1 ? "worktree" : "worktrees"}`;
  const extra = [sort ? `sort: ${sort}` : "", filter ? `filter: ${filter}` : ""].filter(Boolean);
  return displaySafe(["wm dashboard", total, ...parts, ...extra].join("  ·  "));
}

const STATUS_COLOURS: Readonly<Record<string, PaletteField>> = {
  working: "info",
  waiting: "accent",
  done: "success",
};
const FILE_STATUS: Readonly<Record<DiffFileLine["status"], [string, PaletteField]>> = {
  added: ["A", "success"],
  modified: ["M", "warning"],
  deleted: ["D", "danger"],
  renamed: ["R", "accent"],
};

/** A changed file's line: status letter, +/- counts, path, and where the change is. */
export function fileLine(f: DiffFileLine, paint: Painter = painterOf(null)): string {
  const [letter, colour] = FILE_STATUS[f.status];
  const count = (n: number | null, sign: string) => (n === null ? "bin" : `${sign}${n}`);
  const where = f.committed && f.uncommitted ? "both" : f.committed ? "committed" : "uncommitted";
  const name = displaySafe(f.oldPath ? `${f.oldPath} → ${f.path}` : f.path);
  const add = paint(count(f.additions, "+").padStart(6), "success");
  const del = paint(count(f.deletions, "-").padStart(6), "danger");
  return `${paint(letter, colour)} ${add} ${del} ${name}  ${paint(`(${where})`, "dimmed")}`;
}

/** The colour of a patch line: additions, removals, hunk and file headers. */
function patchColour(line: string): PaletteField {
  if (/^(\+\+\+|---) /.test(line) || /^(diff|index) /.test(line)) return "header";
  if (line.startsWith("+")) return "success";
  if (line.startsWith("-")) return "danger";
  if (line.startsWith("@@")) return "info";
  return "text";
}

/** `text` cut to `w` columns, its first `head` columns painted one way and the rest another. */
function split(text: string, head: number, w: number, paint: (a: string, b: string) => string) {
  const chars = [...text];
  let width = 0;
  let i = 0;
  while (i < chars.length && width + displayWidth(chars[i] as string) <= head) {
    width += displayWidth(chars[i] as string);
    i += 1;
  }
  const a = truncate(chars.slice(0, i).join(""), w);
  const b = truncate(chars.slice(i).join(""), Math.max(0, w - displayWidth(a)));
  return paint(a, b);
}

/**
 * Lines of the patch pane in the diff view (its title included): what the file list leaves of
 * the body, the list taking its files up to a third of the body (at least 3 lines).
 */
export function diffPreviewHeight(bodyHeight: number, files: number): number {
  const list = Math.min(Math.max(1, files), Math.max(3, Math.floor(bodyHeight / 3)));
  return Math.max(0, bodyHeight - list);
}

/** The body's height in a frame of `height` lines with a footer. */
export const bodyHeightOf = (height: number) => Math.max(0, Math.floor(height) - 3);

/** One frame: at most `height` lines, none wider than `width` columns. */
export function renderFrame(
  view: DashboardView,
  width: number,
  height: number,
  opts: RenderOptions = {},
): string[] {
  const w = Math.max(0, Math.floor(width));
  const h = Math.max(0, Math.floor(height));
  const paint = painterOf(opts.ansi ? (opts.palette ?? null) : null);
  const coloured = Boolean(opts.ansi && opts.palette);
  const bold = (s: string, colour: PaletteField = "header") =>
    opts.ansi ? paint(s, colour, { bold: true }) : s;
  const footerLines = opts.footer ? 1 : 0;
  const bodyHeight = opts.footer ? bodyHeightOf(h) : Math.max(0, h - 2);
  const qualify = new Set(view.rows.map((r) => r.repo)).size > 1;
  const table = columns([[...HEAD], ...view.rows.map((r) => cells(r, qualify, view.now))]);
  const [head = "", ...body] = table.lines;
  const statusWidth = 2 + (table.widths[0] ?? 0);
  const lines = [
    bold(truncate(summaryLine(view.rows, view.sort, view.filter), w)),
    bold(truncate(`  ${view.files ? view.files.title : head}`, w).trimEnd()),
  ];
  const listed = view.files
    ? view.files.lines.map((f) => fileLine(f))
    : view.rows.length > 0
      ? body
      : [];
  const selectedIndex = view.files ? view.files.selected : view.selected;

  if (view.help) {
    lines.push(
      ...HELP_LINES.slice(0, bodyHeight).map((l, i) =>
        i === 0 ? bold(truncate(l, w)) : paint(truncate(l, w), "text"),
      ),
    );
  } else if (listed.length === 0) {
    const empty = view.files
      ? "no changes since the merge base"
      : view.filter
        ? "no match"
        : EMPTY_TEXT;
    if (bodyHeight > 0) lines.push(paint(truncate(`  ${empty}`, w), "dimmed"));
  } else {
    const preview = view.preview;
    const previewHeight = !preview
      ? 0
      : view.files
        ? diffPreviewHeight(bodyHeight, listed.length)
        : bodyHeight > 2
          ? Math.min(bodyHeight - 1, Math.max(2, Math.floor((bodyHeight * preview.size) / 100)))
          : 0;
    const listHeight = bodyHeight - previewHeight;
    const selected = selectedIndex < 0 ? -1 : Math.min(selectedIndex, listed.length - 1);
    const offset = Math.max(0, selected - listHeight + 1);
    const shown = listed.slice(offset, offset + listHeight);
    shown.forEach((text, i) => {
      const index = offset + i;
      const isSelected = index === selected;
      const plain = `${isSelected ? MARKER : "  "}${text}`;
      if (view.files) {
        const file = view.files.lines[index] as DiffFileLine;
        const line = truncate(plain, w);
        const painted = coloured ? `${isSelected ? MARKER : "  "}${fileLine(file, paint)}` : line;
        const fits = displayWidth(plain) <= w;
        lines.push(rowLine(isSelected, fits && coloured ? painted : line, line, w, opts, paint));
        return;
      }
      const row = view.rows[index];
      const status = row?.status ? STATUS_COLOURS[row.status] : undefined;
      const line = split(plain, statusWidth, w, (a, b) =>
        coloured && !isSelected ? paint(a, status ?? "text") + paint(b, "text") : a + b,
      );
      lines.push(rowLine(isSelected, line, truncate(plain, w), w, opts, paint));
    });
    if (preview && previewHeight > 0) {
      for (let i = shown.length; i < listHeight; i += 1) lines.push("");
      const title = truncate(`── ${displaySafe(preview.title)} ──`, w);
      lines.push(opts.ansi ? paint(title, "border", { bold: true }) : title);
      const room = Math.max(0, previewHeight - 1);
      const tail = preview.patch
        ? preview.lines.slice(preview.patch.offset, preview.patch.offset + room)
        : room > 0
          ? preview.lines.slice(-room)
          : [];
      for (const l of tail) {
        const text = truncate(displaySafe(l), w).trimEnd();
        lines.push(preview.patch ? paint(text, patchColour(l)) : text);
      }
    }
  }

  const out = lines.slice(0, Math.max(0, h - footerLines));
  if (footerLines > 0 && h > 0) {
    while (out.length < h - 1) out.push("");
    const footer = view.prompt ?? view.message ?? (view.files ? DIFF_HINTS : HINTS);
    const shown = truncate(displaySafe(footer), w);
    out.push(
      view.prompt ? bold(shown, "warning") : paint(shown, view.message ? "text" : "help_muted"),
    );
  }
  return out;
}

/** A list line: the selected one in reverse video, or on highlight_row_bg with a palette. */
function rowLine(
  selected: boolean,
  line: string,
  plain: string,
  w: number,
  opts: RenderOptions,
  paint: Painter,
): string {
  if (!selected || !opts.ansi) return line.trimEnd();
  if (opts.palette)
    return paint(fit(plain, w), "current_worktree_fg", { bg: "highlight_row_bg", bold: true });
  return `\x1b[7m${fit(plain, w)}\x1b[0m`;
}
