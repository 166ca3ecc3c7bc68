import { displaySafe } from "@wm/protocol/text";
import { formatDiagnostic } from "./commands/config.ts";
import type { CommandContext } from "./commands/spec.ts";

/**
 * Prints on stderr the config warnings not shown since their file last changed (the daemon
 * keeps the record), before a command that reads config does its work. Nothing is printed
 * when the daemon cannot say: the command itself then reports what stops it.
 */
export async function showConfigWarnings(
  ctx: CommandContext,
  opts: { cwd?: string; startsAgent?: boolean } = {},
): Promise<void> {
  const res = await ctx
    .daemon((c) =>
      c.call("config.warnings", {
        cwd: opts.cwd ?? ctx.cwd,
        startsAgent: opts.startsAgent ?? false,
      }),
    )
    .catch(() => undefined);
  for (const w of res?.warnings ?? []) {
    ctx.io.stderr.write(`wm: warning: ${displaySafe(formatDiagnostic(w))}\n`);
  }
}
