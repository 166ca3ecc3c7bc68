import { promises as fs } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { displaySafe, jsonSafe } from "@wm/protocol/text";
import { tailFile } from "../client/log-tail.ts";
import { UsageError } from "../errors.ts";
import { ExitCode } from "../exit-codes.ts";
import { type CommandContext, defineCommand } from "./spec.ts";

const LEVELS: Record<number, string> = {
  10: "TRACE",
  20: "DEBUG",
  30: "INFO",
  40: "WARN",
  50: "ERROR",
  60: "FATAL",
};

/**
 * One pino JSON line as `time LEVEL msg key=value…`; anything else as it is. Logged values
 * (notify text, branch names) come from agents: control and bidi characters are shown escaped.
 */
export function formatLogLine(line: string): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return displaySafe(line);
  }
  if (typeof rec !== "object" || rec === null || !("msg" in rec)) return displaySafe(line);
  const { time, level, msg, pid: _pid, ...rest } = rec;
  const extra = Object.entries(rest)
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join(" ");
  const lvl = (LEVELS[Number(level)] ?? String(level)).padEnd(5);
  return displaySafe(`${String(time ?? "")} ${lvl} ${String(msg)}${extra ? `  ${extra}` : ""}`);
}

/** Which log lines a command shows: all, or those one filter keeps. */
export type LineFilter = (line: string) => boolean;

function emit(ctx: CommandContext, lines: string[], keep?: LineFilter): void {
  for (const line of lines) {
    if (keep && !keep(line)) continue;
    ctx.io.stdout.write(`${ctx.json ? jsonSafe(line) : formatLogLine(line)}\n`);
  }
}

const TAIL_BYTES = 4 * 1024 * 1024;
/** A filtered view reads the whole current and previous file: each is at most 10 MiB. */
const FILTER_BYTES = 16 * 1024 * 1024;

/**
 * The last `count` lines (of those `keep` keeps), reaching back into `daemon.log.1` when the
 * current file has too few.
 */
export async function recentLines(
  file: string,
  count: number,
  keep?: LineFilter,
): Promise<string[]> {
  const read = (f: string, n: number) =>
    keep
      ? tailFile(f, Number.MAX_SAFE_INTEGER, FILTER_BYTES).then((l) => l.filter(keep).slice(-n))
      : tailFile(f, n, TAIL_BYTES);
  if (count === 0) return [];
  const current = await read(file, count);
  if (current.length >= count) return current;
  return [...(await read(`${file}.1`, count - current.length)), ...current];
}

/** Print the log lines written from now on (of those `keep` keeps) until `signal` aborts. */
export async function followLog(
  ctx: CommandContext,
  file: string,
  signal: AbortSignal,
  keep?: LineFilter,
): Promise<void> {
  let offset = (await fs.stat(file).catch(() => ({ size: 0 }))).size;
  let partial = "";
  while (!signal.aborted) {
    await sleep(200, undefined, { signal }).catch(() => undefined);
    const size = (await fs.stat(file).catch(() => ({ size: 0 }))).size;
    if (size < offset) offset = 0;
    if (size === offset) continue;
    const handle = await fs.open(file, "r");
    try {
      const buf = Buffer.alloc(size - offset);
      await handle.read(buf, 0, buf.length, offset);
      offset = size;
      const parts = (partial + buf.toString("utf8")).split("\n");
      partial = parts.pop() ?? "";
      emit(ctx, parts, keep);
    } finally {
      await handle.close();
    }
  }
}

/** `-f` and `-n N`, for every command that prints the daemon log. */
export const LOG_OPTIONS = {
  follow: {
    type: "boolean",
    short: "f",
    description: "keep printing new lines until interrupted",
  },
  lines: {
    type: "string",
    short: "n",
    valueName: "N",
    description: "how many lines to print first (default 50)",
  },
} as const;

/** The `-n` a log command was given (50 by default). */
export function lineCount(ctx: CommandContext): number {
  const count = Number(ctx.options.lines ?? 50);
  if (!Number.isInteger(count) || count < 0)
    throw new UsageError(`--lines must be a whole number ≥ 0, got "${ctx.options.lines}"`);
  return count;
}

export const logsCommand = defineCommand({
  name: "logs",
  summary: "Print the daemon log (-f to follow)",
  description:
    "Reads $XDG_STATE_HOME/wm/daemon.log directly (and daemon.log.1, the file before the last rotation, when the current one is short), so it works while the daemon is down. --json prints the raw JSON lines.",
  json: true,
  options: LOG_OPTIONS,
  run: async (ctx) => {
    const count = lineCount(ctx);
    const file = ctx.paths().logFile;
    emit(ctx, await recentLines(file, count));
    if (ctx.options.follow) await followUntilInterrupted(ctx, file);
    return ExitCode.Ok;
  },
});

/** Follow the log until Ctrl-C or SIGTERM. */
export async function followUntilInterrupted(
  ctx: CommandContext,
  file: string,
  keep?: LineFilter,
): Promise<void> {
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    await followLog(ctx, file, abort.signal, keep);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

/** Print lines already in the log, then follow it with -f. */
export async function printLog(
  ctx: CommandContext,
  count: number,
  keep: LineFilter,
  follow: boolean,
): Promise<void> {
  const file = ctx.paths().logFile;
  emit(ctx, await recentLines(file, count, keep));
  if (follow) await followUntilInterrupted(ctx, file, keep);
}
