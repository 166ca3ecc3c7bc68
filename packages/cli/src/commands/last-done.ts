import { ExitCode } from "../exit-codes.ts";
import { report } from "../output.ts";
import { explain } from "../worktree/render.ts";
import { tmuxClientFromEnv } from "../worktree/tmux-env.ts";
import { defineCommand } from "./spec.ts";

export const lastDoneCommand = defineCommand({
  name: "last-done",
  summary: "Switch to the window of the agent that most recently finished (status done)",
  description:
    "Among the repository's worktrees (all with --all) whose window is open. Exits 1 when no agent reports done.",
  json: true,
  options: { all: { type: "boolean", short: "a", description: "every repository's worktrees" } },
  run: async (ctx) => {
    const tmux = tmuxClientFromEnv(ctx.env);
    const res = await ctx
      .daemon((c) =>
        c.call("worktree.lastDone", {
          cwd: ctx.cwd,
          all: ctx.options.all === true,
          ...(tmux ? { tmux } : {}),
        }),
      )
      .catch(explain);
    report(ctx, res, (r) => `switched to ${r.worktree.handle}`);
    return ExitCode.Ok;
  },
});
