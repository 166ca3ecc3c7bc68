import type { HookRun, PaneRun, WorktreeSummary } from "@wm/protocol";
import { RpcError } from "@wm/protocol/errors";
import { displaySafe } from "@wm/protocol/text";
import { CliError } from "../errors.ts";
import { ExitCode } from "../exit-codes.ts";
import { columns, formatDuration } from "../output.ts";

export function ago(iso: string | null, now = Date.now()): string {
  return iso ? `${formatDuration(Math.max(0, now - Date.parse(iso)))} ago` : "-";
}

export function renderWorktrees(worktrees: readonly WorktreeSummary[]): string {
  if (worktrees.length === 0) return "no worktrees; `wm add BRANCH` creates one";
  const rows = worktrees.map((w) => [
    w.handle,
    w.branch,
    w.status ?? "-",
    w.window ? `${w.window.id} ${w.window.name}` : "-",
    ago(w.lastActivity),
    `${w.exists ? "" : "(missing) "}${w.path}`,
  ]);
  return columns(["NAME", "BRANCH", "STATUS", "WINDOW", "ACTIVITY", "PATH"], rows);
}

export function renderHooks(hooks: readonly HookRun[]): string[] {
  return hooks.map((h) => `ran ${h.hook}: ${h.command}`);
}

/** One line per pane: what it runs and where (`pane 1: claude — sandboxed (docker)`). */
export function renderRuns(runs: readonly PaneRun[]): string[] {
  return runs.map((r, i) => {
    const what = r.command === null ? "shell" : displaySafe(r.command);
    const where = r.where === "sandbox" ? `sandboxed (${r.backend ?? "unknown engine"})` : "host";
    return `pane ${i + 1}: ${what} — ${where}`;
  });
}

/** What to do next, as the daemon said it: its hint, or the command that fixes it. */
function nextStep(data: { hint?: unknown; fix?: unknown }): string | undefined {
  if (typeof data.hint === "string") return data.hint;
  return typeof data.fix === "string" ? `run \`${data.fix}\`, then try again` : undefined;
}

/**
 * Errors of the worktree methods, told the way a user needs them: a failed hook with its
 * output, refusals (uncommitted or unmerged work) with exit code 6 and no generic hint.
 */
export function explain(err: unknown): never {
  if (!(err instanceof RpcError)) throw err;
  const data = (err.data ?? {}) as {
    hook?: string;
    output?: string;
    reason?: string;
    hint?: unknown;
    fix?: unknown;
  };
  if (data.hook) {
    const output = (data.output ?? "").trimEnd();
    throw new CliError(
      err.message,
      ExitCode.Failure,
      "fix the hook in your config (`wm config` shows which file sets it) or run it by hand in the worktree",
      output ? `output:\n${output.split("\n").slice(-30).join("\n")}` : undefined,
    );
  }
  if (err.is("Refused")) throw new CliError(err.message, ExitCode.Refused, nextStep(data));
  // The daemon answered: a missing tool or image fails the command (1), it is not exit 3.
  if (err.is("Unavailable")) {
    throw new CliError(
      err.message,
      ExitCode.Failure,
      nextStep(data) ?? "run `wm doctor` to see what is missing and how to fix it",
    );
  }
  throw err;
}
