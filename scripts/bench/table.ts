// The one table `pnpm bench` prints: one line per row, fitted to a terminal's width, with the
// baselines' names and any shortened cell in full under it.
import type { Summary } from "./stats.ts";
import type { BenchRow } from "./types.ts";

const GAP = "  ";

/** About three significant digits: 0.051, 2.76, 13.8, 138, 37,228. */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return "n/a";
  const a = Math.abs(v);
  if (a < 1) return v.toFixed(3);
  if (a < 10) return v.toFixed(2);
  if (a < 100) return v.toFixed(1);
  return Math.round(v).toLocaleString("en-US");
}

/** A row's figure from one side: p50 (and p99 with `withP99`) in the row's real unit. */
export function formatFigure(row: BenchRow, s: Summary, withP99: boolean): string {
  const pair = (p50: number, p99: number, unit: string) =>
    `${formatNumber(p50)}${withP99 ? `/${formatNumber(p99)}` : ""} ${unit}`;
  if (row.unit?.kind === "rate") return `${formatNumber(s.perSecond)} ${row.unit.name}`;
  if (row.unit?.kind === "value") return pair(s.p50, s.p99, row.unit.name);
  // Milliseconds; from a second up, in seconds.
  return s.p50 >= 1000 ? pair(s.p50 / 1000, s.p99 / 1000, "s") : pair(s.p50, s.p99, "ms");
}

const formatRatio = (r: number) =>
  Number.isFinite(r) ? `${r < 10 ? r.toFixed(2) : r.toFixed(1)}×` : "n/a";

/** A, B, …, Z, AA, AB, …: keys for the baselines' legend. */
function key(i: number): string {
  const letter = String.fromCharCode(65 + (i % 26));
  return i < 26 ? letter : key(Math.floor(i / 26) - 1) + letter;
}

const length = (s: string) => [...s].length;

function truncate(s: string, width: number): string {
  const chars = [...s];
  return chars.length <= width ? s : `${chars.slice(0, Math.max(0, width - 1)).join("")}…`;
}

const padEnd = (s: string, w: number) => s + " ".repeat(Math.max(0, w - length(s)));
const padStart = (s: string, w: number) => " ".repeat(Math.max(0, w - length(s))) + s;

/** `lead` then the words of `text`, on lines of at most `width`, later lines under the first word. */
export function wrap(lead: string, text: string, width: number): string[] {
  const indent = " ".repeat(length(lead));
  const lines: string[] = [];
  let line = lead;
  for (const word of text.split(" ")) {
    if (length(line) > length(indent) && length(line) + 1 + length(word) > width) {
      lines.push(line);
      line = indent + word;
    } else line = length(line) > length(indent) ? `${line} ${word}` : line + word;
  }
  lines.push(line);
  return lines;
}

interface Columns {
  figure: number;
  target: number;
}

/** Gives the figure and target columns what the fixed columns leave of `width`. */
function flexWidths(rest: number, figureMax: number, targetMax: number): Columns {
  if (figureMax + targetMax <= rest) return { figure: figureMax, target: targetMax };
  const target = Math.min(targetMax, Math.max(14, Math.floor(rest * 0.35)));
  const figure = Math.max(16, Math.min(figureMax, rest - target));
  return { figure, target: Math.min(targetMax, Math.max(1, rest - figure)) };
}

/**
 * The table of `rows` for a terminal `width` columns wide: `#`, figure, the subject's p50/p99
 * (or rate), the baseline's key and p50 (or rate), the ratio, the target and whether it was met.
 * Under it, the baselines by key, then each shortened figure or target in full.
 */
export function formatTable(rows: readonly BenchRow[], width = 120): string {
  if (rows.length === 0) return "no rows\n";
  const keys = new Map<string, string>();
  for (const r of rows) if (!keys.has(r.baselineName)) keys.set(r.baselineName, key(keys.size));
  const cells = rows.map((r, i) => ({
    n: String(i + 1),
    figure: r.name,
    subject: formatFigure(r, r.subject, true),
    baseline: `[${keys.get(r.baselineName)}] ${formatFigure(r, r.baseline, false)}`,
    ratio: formatRatio(r.ratio),
    target: r.target ? `${r.target.met ? "met" : "MISSED"} ${r.target.text}` : "—",
  }));
  const head = {
    n: "#",
    figure: "figure",
    subject: "subject p50/p99",
    baseline: "baseline p50",
    ratio: "ratio",
    target: "target",
  };
  const all = [head, ...cells];
  const widest = (k: keyof typeof head) => Math.max(...all.map((c) => length(c[k])));
  const fixed = {
    n: widest("n"),
    subject: widest("subject"),
    baseline: widest("baseline"),
    ratio: widest("ratio"),
  };
  const used = fixed.n + fixed.subject + fixed.baseline + fixed.ratio + 5 * GAP.length;
  const flex = flexWidths(width - used, widest("figure"), widest("target"));
  const line = (c: typeof head) =>
    [
      padStart(c.n, fixed.n),
      padEnd(truncate(c.figure, flex.figure), flex.figure),
      padStart(c.subject, fixed.subject),
      padEnd(c.baseline, fixed.baseline),
      padStart(c.ratio, fixed.ratio),
      truncate(c.target, flex.target),
    ]
      .join(GAP)
      .trimEnd();
  const out = [line(head), "-".repeat(used + flex.figure + flex.target), ...cells.map(line)];

  out.push("", "baselines:");
  for (const [name, k] of keys) out.push(...wrap(`  [${k}] `, name, width));
  const shortened = cells.filter(
    (c) => length(c.figure) > flex.figure || length(c.target) > flex.target,
  );
  if (shortened.length > 0) {
    out.push("", "in full:");
    const indent = " ".repeat(fixed.n + 3);
    for (const c of shortened) {
      out.push(...wrap(`${padStart(c.n, fixed.n + 2)} `, c.figure, width));
      if (length(c.target) > flex.target) out.push(...wrap(`${indent}target: `, c.target, width));
    }
  }
  const targets = rows.filter((r) => r.target);
  const missed = targets.filter((r) => !r.target?.met).length;
  out.push("", `${rows.length} rows; targets: ${targets.length - missed} met, ${missed} missed`);
  return `${out.join("\n")}\n`;
}
