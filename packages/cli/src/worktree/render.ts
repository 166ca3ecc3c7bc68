import type { HookRun, WorktreeSummary } from "@wm/protocol";
import { RpcError } from "@wm/protocol/errors";
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

/**
 * Errors of the worktree methods, told the way a user needs them: a failed hook with its
 * output, refusals (uncommitted or unmerged work) with exit code 6 and no generic hint.
 */
export function explain(err: unknown): never {
  if (!(err instanceof RpcError)) throw err;
  const data = (err.data ?? {}) as { hook?: string; output?: string; reason?: string };
  if (data.hook) {
    const output = (data.output ?? "").trimEnd();
    throw new CliError(
      err.message,
      ExitCode.Failure,
      "fix the hook in your config (`wm config` shows which file sets it) or run it by hand in the worktree",
      output ? `output:\n${output.split("\n").slice(-30).join("\n")}` : undefined,
    );
  }
  if (err.is("Refused")) throw new CliError(err.message, ExitCode.Refused);
  throw err;
}
