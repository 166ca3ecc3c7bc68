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

function emit(ctx: CommandContext, lines: string[]): void {
  for (const line of lines)
    ctx.io.stdout.write(`${ctx.json ? jsonSafe(line) : formatLogLine(line)}\n`);
}

const TAIL_BYTES = 4 * 1024 * 1024;

/** The last `count` lines, reaching back into `daemon.log.1` when the log was just rotated. */
async function recentLines(file: string, count: number): Promise<string[]> {
  const current = await tailFile(file, count, TAIL_BYTES);
  if (current.length >= count) return current;
  return [...(await tailFile(`${file}.1`, count - current.length, TAIL_BYTES)), ...current];
}

async function follow(ctx: CommandContext, file: string, signal: AbortSignal): Promise<void> {
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
      emit(ctx, parts);
    } finally {
      await handle.close();
    }
  }
}

export const logsCommand = defineCommand({
  name: "logs",
  summary: "Print the daemon log (-f to follow)",
  description:
    "Reads $XDG_STATE_HOME/wm/daemon.log directly (and daemon.log.1, the file before the last rotation, when the current one is short), so it works while the daemon is down. --json prints the raw JSON lines.",
  json: true,
  options: {
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
  },
  run: async (ctx) => {
    const count = Number(ctx.options.lines ?? 50);
    if (!Number.isInteger(count) || count < 0)
      throw new UsageError(`--lines must be a whole number ≥ 0, got "${ctx.options.lines}"`);
    const file = ctx.paths().logFile;
    emit(ctx, count > 0 ? await recentLines(file, count) : []);
    if (!ctx.options.follow) return ExitCode.Ok;
    const abort = new AbortController();
    const onSignal = () => abort.abort();
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    try {
      await follow(ctx, file, abort.signal);
    } finally {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    }
    return ExitCode.Ok;
  },
});
