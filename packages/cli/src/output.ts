import { displaySafe, jsonSafe } from "@wm/protocol/text";
import type { CommandContext } from "./commands/spec.ts";

/**
 * Print `data` as one JSON document with --json, else as the human text `render` gives. Names,
 * paths and messages can come from an agent, so neither form carries a character a terminal
 * would obey: the JSON escapes them (`\u009b`), the text shows them as `\x1b`, `\u202e`.
 */
export function report<T>(ctx: CommandContext, data: T, render: (data: T) => string): void {
  if (ctx.json) {
    ctx.io.stdout.write(`${jsonSafe(JSON.stringify(data, null, 2))}\n`);
  } else {
    const text = displaySafe(render(data), { multiline: true });
    if (text.length > 0) ctx.io.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
  }
}

export function formatDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  return `${h}h ${m % 60}m`;
}

/** Two-column key/value block; each cell one line, shown with `displaySafe`. */
export function table(rows: ReadonlyArray<readonly [string, string]>): string {
  const safe = rows.map(([k, v]) => [displaySafe(k), displaySafe(v)] as const);
  const width = Math.max(...safe.map(([k]) => k.length));
  return safe.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join("\n");
}

/** Left-aligned columns under a header, two spaces apart; each cell one line, shown with `displaySafe`. */
export function columns(head: readonly string[], cells: readonly (readonly string[])[]): string {
  const rows = cells.map((r) => r.map((c) => displaySafe(c)));
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  return [head, ...rows]
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i] as number))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}
