import { showConfigWarnings } from "../config-warnings.ts";
import { UsageError } from "../errors.ts";
import { ExitCode } from "../exit-codes.ts";
import { report } from "../output.ts";
import { explain, renderRuns } from "../worktree/render.ts";
import { tmuxClientFromEnv } from "../worktree/tmux-env.ts";
import { defineCommand } from "./spec.ts";

export const openCommand = defineCommand({
  name: "open",
  summary: "Switch to a worktree's tmux window, opening it again if it was closed",
  description: [
    "A window opened again is checked as `wm add` checks it (tmux on the daemon's PATH; for a",
    "sandboxed worktree a sandboxed pane and its image), and the command prints what each pane",
    "runs and where (`pane 1: claude — sandboxed (docker)`).",
    "",
    "Any linked worktree of the repository can be opened, including ones made with plain",
    "`git worktree add` or by workmux (`wm list` shows them); wm keeps a record of it from then on.",
    "",
    "An unknown key under sandbox: fails it (exit 5), even when an open window is only selected;",
    "so, for a sandboxed worktree whose window is opened again, does a sandbox setting wm cannot",
    "honour (docs/sandbox.md). Config warnings are printed on stderr, once per change of the file.",
  ].join("\n"),
  json: true,
  args: [{ name: "name", description: "worktree name, branch or path", required: true }],
  options: {
    sandbox: {
      type: "boolean",
      description: "run the agent pane in a sandbox from now on (the window must be closed)",
    },
    "no-sandbox": {
      type: "boolean",
      description: "run the agent pane on the host from now on (the window must be closed)",
    },
  },
  run: async (ctx) => {
    if (ctx.options.sandbox && ctx.options["no-sandbox"]) {
      throw new UsageError("--sandbox and --no-sandbox exclude each other");
    }
    const sandbox = ctx.options.sandbox ? true : ctx.options["no-sandbox"] ? false : undefined;
    const tmux = tmuxClientFromEnv(ctx.env);
    await showConfigWarnings(ctx, { startsAgent: true });
    const res = await ctx
      .daemon((c) =>
        c.call("worktree.open", {
          cwd: ctx.cwd,
          name: ctx.args[0] as string,
          ...(sandbox !== undefined ? { sandbox } : {}),
          ...(tmux ? { tmux } : {}),
        }),
      )
      .catch(explain);
    report(ctx, res, (r) =>
      [
        `${r.created ? "opened a new" : "selected the"} window ${r.worktree.window?.name ?? ""} for ${r.worktree.handle}`,
        ...renderRuns(r.runs).map((l) => `  ${l}`),
      ].join("\n"),
    );
    return ExitCode.Ok;
  },
});
