import type { StatusIcons } from "../dashboard/model.ts";
import { CliError, UsageError } from "../errors.ts";
import { ExitCode } from "../exit-codes.ts";
import { report } from "../output.ts";
import { defineCommand } from "./spec.ts";

function onceWidth(env: NodeJS.ProcessEnv, stdout: { columns?: number }) {
  const fromEnv = Number(env.COLUMNS);
  if (Number.isInteger(fromEnv) && fromEnv > 0) return fromEnv;
  return stdout.columns || 120;
}

export const dashboardCommand = defineCommand({
  name: "dashboard",
  summary: "Live full-screen view of every agent: status, branch, sandbox, activity, diff size",
  description: [
    "Shows every worktree wm tracks, updated from the daemon's event stream as statuses,",
    "worktrees and sandboxes change. DIFF is the branch's committed change since it left the",
    "main branch (+added -removed lines, files).",
    "",
    "Below the list: the selected agent's screen (dashboard.preview_size percent of the height).",
    "",
    "Keys: up/down or k/j select, 1-9 select the Nth, enter goes to the agent's tmux window,",
    "c types dashboard.commit into the agent, m merges the branch (or, when dashboard.merge is",
    "set, types that text into the agent), x closes the window (stopping the agent) - each after",
    "a y/n question; i is input mode: every key goes to the agent's pane as typed (Enter,",
    "Backspace, Tab, arrows, Ctrl-C, Ctrl-D too) until Esc; d lists the worktree's changed",
    "files since the merge base (committed and uncommitted) with each one's patch (j/k select,",
    "PageUp/PageDown scroll, d or esc back); / filters by name, s cycles the sort order (first:",
    "dashboard.sort_mode), ? shows the keys, q or esc quits.",
    "",
    "Colours follow theme (scheme, mode, custom); NO_COLOR turns them off.",
    "",
    "With --once it prints one frame to stdout and exits (--json: the rows as data); the width",
    "is $COLUMNS, else the terminal's, else 120.",
  ].join("\n"),
  json: true,
  options: {
    once: { type: "boolean", description: "print one frame (with --json: the state) and exit" },
  },
  run: async (ctx) => {
    if (!ctx.options.once) {
      if (ctx.json) throw new UsageError("--json needs --once", "run `wm dashboard --once --json`");
      const stdout = ctx.io.stdout as NodeJS.WriteStream;
      if (!process.stdin.isTTY || !stdout.isTTY) {
        throw new CliError(
          "wm dashboard needs a terminal",
          ExitCode.Usage,
          "`wm dashboard --once` prints one frame; `wm list --all --json` gives the data",
        );
      }
      await ctx.daemon((c) => c.call("daemon.status", {}));
      // Loaded when used: other commands do not pay for compiling the dashboard.
      const { runDashboard } = await import("../dashboard/dashboard.ts");
      return runDashboard({
        socketPath: ctx.paths().socketPath,
        cwd: ctx.cwd,
        env: ctx.env,
        stdin: process.stdin,
        stdout,
      });
    }
    const [{ fetchRows }, { renderFrame }] = await Promise.all([
      import("../dashboard/dashboard.ts"),
      import("../dashboard/render.ts"),
    ]);
    const icons = new Map<string, StatusIcons>();
    const rows = await ctx.daemon((c) => fetchRows(c, icons));
    const view = { rows, selected: -1, now: Date.now(), help: false, prompt: null, message: null };
    report(ctx, { worktrees: rows }, () =>
      renderFrame(
        view,
        onceWidth(ctx.env, ctx.io.stdout as NodeJS.WriteStream),
        Number.POSITIVE_INFINITY,
      ).join("\n"),
    );
    return ExitCode.Ok;
  },
});
